module.exports = { ...require('../../jest.preset.js'), displayName: 'model-bert', rootDir: __dirname };
