module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-sop', rootDir: __dirname };
