/**
 * Drug classes and lay names for "the pills I take for X". A class mention
 * becomes a medication fact named after the class ("statin",
 * "antihypertensive"); it is not merged with a named drug of that class.
 */
import { type LexiconEntry, parseTable } from './table.ts';

const TABLE = `
statin | statins, cholesterol medication, cholesterol medicine, cholesterol medications, cholesterol pill, cholesterol pills, cholesterol meds, cholesterol drug
antihypertensive | blood pressure medicine, blood pressure medication, blood pressure medications, blood pressure medicines, blood pressure meds, blood pressure pill, blood pressure pills, bp medicine, bp meds, bp medication, high blood pressure medicine, high blood pressure medication, antihypertensives
anticoagulant | blood thinner, blood thinners, anticoagulants, anticoagulation
antiplatelet | antiplatelets, antiplatelet therapy
antibiotic | antibiotics
antidepressant | antidepressants, depression medicine, depression medication, depression meds
antihistamine | antihistamines, allergy medicine, allergy medication, allergy medications, allergy pills, allergy pill, allergy meds
inhaler | inhalers, nebulizer, breathing treatments
diuretic | diuretics, water pill, water pills, fluid pill, fluid pills
thyroid medication | thyroid medicine, thyroid medications, thyroid meds, thyroid pill, thyroid pills, thyroid hormone
diabetes medication | diabetes medicine, diabetes medications, diabetes meds, diabetic medication, diabetic medicine, diabetic meds, sugar medicine, oral hypoglycemic
pain medication | pain medicine, pain medications, pain pills, pain pill, pain meds, painkillers, painkiller, pain killers, pain killer, pain relievers, pain reliever, narcotics, narcotic, opioids, opioid, opiates
nsaid | nsaids, anti-inflammatories, anti-inflammatory, anti inflammatories, anti inflammatory, antiinflammatories, anti-inflammatory medication
corticosteroid | cortisone, steroids, steroid, cortisone shot, cortisone injection, steroid injection, steroid shot, steroid cream, steroid pack, corticosteroids
immunosuppressant | immunosuppressants, immunosuppressive medications, immunosuppressive medication, immunosuppressive meds, immunosuppressant medications, anti-rejection medication, anti-rejection medications, antirejection medications
antipsychotic | antipsychotics
benzodiazepine | benzos, benzodiazepines
sleeping pill | sleeping pills, sleep aid, sleep aids, sleep medication, sleeping medication, sleep medicine
muscle relaxant | muscle relaxants, muscle relaxer, muscle relaxers
antacid | antacids, acid reducer, acid reducers, heartburn medicine, reflux medicine, acid reflux medicine, ppi, proton pump inhibitor
beta blocker | beta blockers, beta-blocker, beta-blockers
ace inhibitor | ace inhibitors
anticonvulsant | seizure medication, seizure medicine, seizure medications, seizure meds, anti-seizure medication, antiepileptic, antiepileptics, anticonvulsants
laxative | laxatives
anxiety medication | anxiety medicine, anxiety meds, anxiety medications
hormone replacement therapy | hrt, hormone therapy, hormone replacement
sulfa drugs | sulfa, sulfonamides, sulfa drug, sulfonamide
cephalosporins | cephalosporin
macrolides | mycins, mycin drugs, macrolide
fluoroquinolones | quinolones, fluoroquinolone
chemotherapy medication | chemo pills, oral chemotherapy
antiviral | antivirals
antifungal | antifungals
vitamin | vitamins
`;

/** Drug-class lexicon entries; each becomes a medication named by its class. */
export const DRUG_CLASSES: readonly LexiconEntry[] = parseTable(TABLE);
