module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-electra', rootDir: __dirname };
