module.exports = { ...require('../../jest.preset.js'), displayName: 'backend-native', rootDir: __dirname };
