/**
 * Non-drug allergens and allergic reactions. Drug allergens come from the
 * medication and drug-class lexicons; these words only become allergies in
 * an allergy context ("allergic to eggs"), never on their own.
 */
import { type LexiconEntry, parseTable } from './table.ts';

const ALLERGEN_TABLE = `
peanut | peanuts, peanut butter
tree nuts | tree nut, nuts, walnuts, almonds, cashews, pecans, hazelnuts, pistachios
shellfish | shrimp, lobster, crab, crabs, seafood, clams, oysters, scallops, mussels
fish
egg | eggs, egg whites
milk | dairy, cow's milk, dairy products, lactose
wheat | gluten
soy | soybeans, soy products
sesame | sesame seeds
strawberries | strawberry
latex | latex gloves, rubber
bee stings | bees, bee, bee sting, wasps, wasp, hornets, insect stings, insect bites, bug bites, yellow jackets
pollen | pollens, tree pollen, grass pollen
dust | dust mites, dust mite, house dust
mold | molds, mildew
cat dander | cats, cat, cat hair
dog dander | dogs, dog, dog hair
animal dander | dander, pet dander, animals
grass | grasses
ragweed
iodine | contrast, contrast dye, iv contrast, iodinated contrast, dye
adhesive | tape, adhesive tape, bandages, band-aids
nickel | metals, jewelry
fragrance | perfume, perfumes, fragrances
sulfites | sulfite
msg
`;

const REACTION_TABLE = `
hives | urticaria, welts
rash | rashes, skin rash, broke out, break out, breaks out, breaking out, breakout
swelling | swell, swells, swelled up, swell up, swollen, facial swelling, lip swelling, tongue swelling
throat swelling | throat closes, throat closing, throat closed, throat swells, throat swelled, throat tightness
anaphylaxis | anaphylactic, anaphylactic shock, anaphylactic reaction
itching | itchy, itch, itches, pruritus
nausea | nauseous, nauseated, sick to my stomach
vomiting | throw up, throwing up, threw up
shortness of breath | trouble breathing, difficulty breathing, short of breath, cant breathe, could not breathe, couldnt breathe
wheezing
diarrhea | diarrhoea
upset stomach | stomach upset, stomach ache, stomach pain, gi upset
dizziness | dizzy, lightheaded
headache | headaches
blisters | blistering
redness
cough
palpitations | heart racing
angioedema
stevens-johnson syndrome | stevens johnson syndrome, sjs
hallucinations
drowsiness | drowsy
muscle aches
`;

/** Non-drug allergen entries (food, insect, environmental, contact). */
export const ALLERGENS: readonly LexiconEntry[] = parseTable(ALLERGEN_TABLE);

/** Allergic reaction entries (canonical reaction → aliases). */
export const REACTIONS: readonly LexiconEntry[] = parseTable(REACTION_TABLE);
