module.exports = { ...require('../../jest.preset.js'), displayName: 'objective-context-bow', rootDir: __dirname };
