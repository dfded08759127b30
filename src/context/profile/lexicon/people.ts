/**
 * Relations: family members (whose conditions are family history, never the
 * patient's) and clinician roles (the patient's care team).
 */
import { type LexiconEntry, parseTable } from './table.ts';

const FAMILY_TABLE = `
mother | mom, mum, mama, mommy, momma
father | dad, daddy, papa, pop
parent | parents
sister | sis
brother
sibling | siblings
wife
husband
spouse
partner
boyfriend
girlfriend
fiance | fiancee
son
daughter
child | children, kids, kid
baby
grandmother | grandma, granny, nana, grandmom
grandfather | grandpa, granddad, grandad, granddaddy
grandparent | grandparents
grandson
granddaughter
grandchild | grandchildren, grandkids
aunt | auntie, aunty
uncle
cousin
niece
nephew
stepmother | stepmom, step mom
stepfather | stepdad, step dad
stepson
stepdaughter
mother-in-law | mother in law
father-in-law | father in law
twin
family | relatives, relative, family members, family member
`;

const CLINICIAN_TABLE = `
physician | doctor, primary care doctor, primary care physician, pcp, family doctor, gp, primary doctor, regular doctor, family physician, internist
cardiologist | heart doctor
oncologist | cancer doctor
neurologist
endocrinologist
rheumatologist
nephrologist | kidney doctor
pulmonologist | lung doctor
gastroenterologist | gi doctor
dermatologist | skin doctor
psychiatrist
psychologist
therapist | counselor, counsellor
surgeon
orthopedic surgeon | orthopedist, orthopaedic surgeon, orthopedic doctor, bone doctor
urologist
gynecologist | obgyn, ob-gyn, ob/gyn, obstetrician-gynecologist
obstetrician
pediatrician
ophthalmologist | eye doctor
optometrist
dentist
podiatrist | foot doctor
nurse
nurse practitioner
physician assistant
pharmacist
physical therapist
allergist
hematologist
infectious disease specialist | infectious disease doctor
ent doctor | ent, otolaryngologist, ear nose and throat doctor
anesthesiologist
midwife
chiropractor
dietitian | nutritionist, dietician
social worker
specialist
`;

/** Family-relation entries (canonical relation → aliases). */
export const FAMILY_RELATIONS: readonly LexiconEntry[] = parseTable(FAMILY_TABLE);

/** Clinician-role entries (canonical role → aliases). */
export const CLINICIAN_ROLES: readonly LexiconEntry[] = parseTable(CLINICIAN_TABLE);
