module.exports = { ...require('../../jest.preset.js'), displayName: 'corpus', rootDir: __dirname };
