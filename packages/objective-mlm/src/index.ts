export const mlmThing = 1;
