module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-clm', rootDir: __dirname };
