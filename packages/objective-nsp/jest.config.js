module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-nsp', rootDir: __dirname };
