// @ts-check
/** The generators this plugin provides (see generators.json). */
module.exports = { objectiveGenerator: require('./generators/objective/generator').objectiveGenerator };
