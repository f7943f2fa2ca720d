module.exports = { ...require('../../jest.preset.js'), displayName: 'model-gpt', rootDir: __dirname };
