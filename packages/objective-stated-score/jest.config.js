module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-stated-score', rootDir: __dirname };
