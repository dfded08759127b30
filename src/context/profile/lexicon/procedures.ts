/**
 * Procedures and operations, with the ways patients say them ("had my
 * gallbladder out"). Plain imaging (x-ray, CT, MRI) is left out: it is
 * ordered in most visits and says little about the patient's history.
 */
import { type LexiconEntry, parseTable } from './table.ts';

const TABLE = `
appendectomy | appendix removed, appendix out, appendix taken out, appendix surgery
cholecystectomy | gallbladder removed, gallbladder out, gallbladder taken out, gallbladder surgery, gall bladder removed, gall bladder surgery, lap chole
tonsillectomy | tonsils out, tonsils removed, tonsils taken out
adenoidectomy | adenoids out, adenoids removed
hysterectomy | uterus removed
c-section | c section, cesarean, cesarean section, caesarean, caesarean section, c-sections, c sections
colonoscopy | colonoscopies
endoscopy | egd, upper endoscopy, upper gi endoscopy
knee replacement | total knee replacement, tkr, total knee arthroplasty, knee replaced
hip replacement | total hip replacement, total hip arthroplasty, hip replaced
shoulder replacement
coronary artery bypass | bypass surgery, cabg, bypass, triple bypass, quadruple bypass, double bypass, heart bypass, coronary bypass
angioplasty | balloon angioplasty
stent placement | stent, stents, cardiac stent, coronary stent
cardiac catheterization | heart cath, cardiac cath, catheterization, heart catheterization, left heart cath
pacemaker | pacemaker placement, pacemaker implantation
defibrillator | icd, implantable defibrillator, aicd
cardiac ablation | ablation
cardioversion
valve replacement | heart valve replacement, aortic valve replacement, tavr, mitral valve repair
open heart surgery | heart surgery
mastectomy | double mastectomy
lumpectomy
prostatectomy | prostate removed
thyroidectomy | thyroid removed
hernia repair | herniorrhaphy, hernia surgery
carpal tunnel release | carpal tunnel surgery
cataract surgery | cataracts removed, cataract removed
lasik | lasik surgery
arthroscopy | knee scope, knee arthroscopy, shoulder arthroscopy, arthroscopic surgery
acl reconstruction | acl repair, acl surgery
rotator cuff repair | rotator cuff surgery
spinal fusion | lumbar fusion, cervical fusion, back fusion, neck fusion
back surgery | spine surgery, spinal surgery, laminectomy, discectomy, microdiscectomy
knee surgery
shoulder surgery
hip surgery
foot surgery | bunionectomy
tubal ligation | tubes tied, tubal
vasectomy
circumcision
biopsy | biopsies, skin biopsy, breast biopsy, prostate biopsy
mammogram | mammography, mammograms
pap smear | pap smears, pap test
dialysis | hemodialysis, peritoneal dialysis
kidney transplant | renal transplant
liver transplant
heart transplant
bone marrow transplant | stem cell transplant
amputation
craniotomy | brain surgery
splenectomy | spleen removed
nephrectomy | kidney removed
colectomy | bowel resection, colon resection
gastric bypass | weight loss surgery, bariatric surgery, lap band, gastric sleeve, sleeve gastrectomy, gastric banding
dilation and curettage | d&c, d and c
colostomy
tracheostomy
wisdom teeth removal | wisdom teeth out, wisdom teeth removed, wisdom teeth extracted, wisdom teeth extraction
sinus surgery
septoplasty
ear tubes
hemorrhoidectomy
skin graft
open reduction internal fixation | orif
chemotherapy | chemo
radiation therapy | radiation, radiation treatment, radiotherapy
echocardiogram | echo, cardiac echo
stress test | cardiac stress test, nuclear stress test
sleep study | polysomnography
physical therapy
surgery | surgeries, operation, operations
`;

/** Procedure lexicon entries (canonical name → aliases). */
export const PROCEDURES: readonly LexiconEntry[] = parseTable(TABLE);
