// English term pairs for counterfactual tests, in the format of lexicon.ts.
// Provenance: written for whet (MIT, like the rest of the project). The gendered pairs are common
// English words; the first names are among the most frequent US given names by sex in the Social
// Security Administration's public baby-name tables (a US government work, public domain), paired
// rank by rank. "her" is both his and him: it is listed once, with "his", so a swap back from "her"
// gives "his".
const GENDER = `
he she
his her
him her
himself herself
man woman
men women
boy girl
boys girls
father mother
fathers mothers
dad mom
son daughter
sons daughters
brother sister
brothers sisters
husband wife
husbands wives
boyfriend girlfriend
uncle aunt
nephew niece
grandfather grandmother
grandson granddaughter
king queen
prince princess
gentleman lady
gentlemen ladies
sir madam
mr mrs
male female
males females
masculine feminine
actor actress
waiter waitress
guy gal
`;

const NAMES = `
James Mary
John Patricia
Robert Jennifer
Michael Linda
William Elizabeth
David Barbara
Richard Susan
Joseph Jessica
Thomas Sarah
Charles Karen
Christopher Nancy
Daniel Lisa
Matthew Betty
Anthony Margaret
Mark Sandra
Donald Ashley
Steven Kimberly
Paul Emily
Andrew Donna
Joshua Michelle
Kevin Carol
Brian Amanda
George Melissa
Edward Deborah
Ryan Stephanie
Jacob Rebecca
Gary Laura
Eric Emma
Jonathan Olivia
Justin Sophia
`;

const rows = (category: string, block: string) =>
  block.trim().split("\n").map((l) => `${category}\t${l.trim().split(/\s+/).join("\t")}`).join("\n");

export const ENGLISH_LEXICON = `${rows("gender", GENDER)}\n${rows("names", NAMES)}\n`;
