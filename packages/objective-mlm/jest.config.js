module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-mlm', rootDir: __dirname };
