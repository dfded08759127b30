/**
 * Conditions, diagnoses and symptoms, with the lay terms patients use.
 * Short abbreviations that are also everyday words or names ("ms", "ed",
 * "add", "pad", "pe") are left out on purpose.
 */
import { type LexiconEntry, parseTable } from './table.ts';

const TABLE = `
# cardiovascular
hypertension | high blood pressure, htn, high bp, elevated blood pressure, blood pressure problems, blood pressure problem, hypertensive, hbp, high b p
hypotension | low blood pressure
hyperlipidemia | high cholesterol, elevated cholesterol, hypercholesterolemia, dyslipidemia, cholesterol problems, high lipids, mixed hyperlipidemia
hypertriglyceridemia | high triglycerides
coronary artery disease | cad, coronary disease, blocked arteries, coronary heart disease, ischemic heart disease
heart disease | heart problems, heart condition, cardiac disease, heart issues, heart trouble, heart related issues
myocardial infarction | heart attack, heart attacks, stemi, nstemi
congestive heart failure | chf, heart failure, hfref, hfpef
cardiomyopathy | dilated cardiomyopathy, hypertrophic cardiomyopathy
atrial fibrillation | afib, a-fib, a fib, atrial fib, paroxysmal atrial fibrillation
atrial flutter
arrhythmia | irregular heartbeat, irregular heart beat, heart arrhythmia, dysrhythmia, irregular heart rhythm
bradycardia | slow heart rate
tachycardia | fast heart rate, svt, supraventricular tachycardia
heart murmur | murmur, systolic murmur, systolic ejection murmur
mitral valve prolapse | mvp
mitral regurgitation | mitral valve regurgitation, leaky valve
aortic stenosis
valvular heart disease | valve disease, heart valve problem, heart valve disease
angina | stable angina, unstable angina
chest pain | chest pains, chest discomfort, chest pressure, chest tightness
peripheral artery disease | peripheral vascular disease, pvd, peripheral arterial disease
deep vein thrombosis | dvt, blood clot in my leg, blood clots in my legs
blood clots | blood clot
pulmonary embolism | blood clot in my lung, blood clot in the lung, blood clots in my lungs
stroke | cva, cerebrovascular accident, strokes
transient ischemic attack | tia, mini stroke, mini-stroke, mini strokes
aneurysm | aortic aneurysm, abdominal aortic aneurysm, aaa, brain aneurysm
varicose veins | varicose vein
atherosclerosis | hardening of the arteries
carotid artery disease | carotid stenosis
left ventricular hypertrophy | lvh, enlarged heart, cardiomegaly
pulmonary hypertension
pericarditis
endocarditis
myocarditis
heart block
palpitations | heart racing, racing heart, heart palpitations, fluttering in my chest
# blood
anemia | anemic, iron deficiency anemia, low iron, low blood count, iron deficiency
sickle cell disease | sickle cell, sickle cell anemia
thalassemia
hemophilia
thrombocytopenia | low platelets, low platelet count
hemochromatosis
# respiratory
asthma | asthmatic, reactive airway disease, exercise induced asthma
copd | chronic obstructive pulmonary disease, emphysema, chronic bronchitis
bronchitis
pneumonia
sleep apnea | obstructive sleep apnea, osa, apnea
pulmonary fibrosis
tuberculosis | tb
lung disease
allergic rhinitis | hay fever, seasonal allergies, environmental allergies, rhinitis, nasal allergies
sinusitis | sinus infection, sinus infections, sinus problems, sinus issues, sinus, chronic sinusitis
upper respiratory infection | uri, upper respiratory tract infection, chest cold
common cold | head cold
influenza | flu, the flu
covid-19 | covid, covid 19, coronavirus
cough | coughing, dry cough, productive cough
shortness of breath | trouble breathing, difficulty breathing, short of breath, dyspnea, breathlessness, hard to breathe
wheezing
pneumothorax | collapsed lung
lung nodule | pulmonary nodule, lung nodules
sarcoidosis | sarcoid
cystic fibrosis
pleurisy
# gastrointestinal
gerd | acid reflux, reflux, gastroesophageal reflux disease, gastroesophageal reflux, heartburn, heart burn
peptic ulcer | ulcer, stomach ulcer, gastric ulcer, duodenal ulcer, peptic ulcer disease
gastritis
irritable bowel syndrome | ibs
inflammatory bowel disease | ibd
crohns disease | crohn's disease, crohns, crohn's, crohn disease
ulcerative colitis
colitis
celiac disease | celiac, coeliac, gluten intolerance
diverticulitis | diverticulosis, diverticular disease
constipation | constipated
diarrhea | diarrhoea, loose stools
nausea | nauseous, nauseated, queasy
vomiting | throwing up, emesis, threw up
abdominal pain | stomach pain, belly pain, stomach ache, stomachache, tummy ache, abdominal cramps, stomach cramps, abdominal discomfort
gallstones | gall stones, gallbladder disease, cholelithiasis, gallbladder problems
pancreatitis
hepatitis
hepatitis b | hep b
hepatitis c | hep c
cirrhosis | liver cirrhosis
fatty liver disease | fatty liver, nafld, nash
liver disease | liver problems
hemorrhoids | hemorrhoid
hernia | inguinal hernia, umbilical hernia, incisional hernia
hiatal hernia
gastrointestinal bleeding | gi bleed, gi bleeding, gastrointestinal bleed
barretts esophagus | barrett's esophagus
esophagitis
dysphagia | trouble swallowing, difficulty swallowing
colon polyps | polyps, polyp, colonic polyps
gastroenteritis | stomach flu, stomach bug
gastroparesis
bowel obstruction
blood in stool | rectal bleeding, bloody stool, bloody stools
# kidney and urinary
chronic kidney disease | ckd, kidney disease, renal disease, renal insufficiency, kidney problems, chronic renal insufficiency, renal failure, kidney failure
end stage renal disease | esrd
acute kidney injury | aki
kidney stones | kidney stone, nephrolithiasis, renal calculi, renal stones
urinary tract infection | uti, utis, bladder infection, urinary infection, u t i
kidney infection | pyelonephritis
overactive bladder | oab
urinary incontinence | incontinence, leaking urine
urinary retention
benign prostatic hyperplasia | bph, enlarged prostate
prostatitis
erectile dysfunction | impotence
polycystic kidney disease | polycystic kidneys, pkd
interstitial cystitis
hematuria | blood in urine, blood in my urine
nephrotic syndrome
glomerulonephritis
# endocrine and metabolic
diabetes | diabetic, diabetes mellitus, dm, sugar diabetes
type 1 diabetes | type one diabetes, type i diabetes, t1dm, juvenile diabetes, type 1 diabetes mellitus, type one diabetic, type 1 diabetic
type 2 diabetes | type two diabetes, type ii diabetes, t2dm, adult onset diabetes, type 2 diabetes mellitus, dm2, type 2 diabetic, type two diabetic
prediabetes | pre-diabetes, prediabetic, pre-diabetic, borderline diabetes
gestational diabetes
hypoglycemia | low blood sugar, low sugars, low blood sugars
hyperglycemia | high blood sugar, high sugars, high blood sugars
insulin resistance
metabolic syndrome
hypothyroidism | underactive thyroid, low thyroid, hashimotos, hashimoto's, hashimotos thyroiditis, hashimoto's thyroiditis
hyperthyroidism | overactive thyroid, graves disease, graves' disease
thyroid disease | thyroid problems, thyroid problem, thyroid issues, thyroid condition, thyroid disorder
thyroid nodule | thyroid nodules
goiter
hyperparathyroidism
adrenal insufficiency | addisons disease, addison's disease
cushings syndrome | cushing's syndrome, cushing's disease
obesity | obese, morbid obesity, morbidly obese, overweight
vitamin d deficiency | low vitamin d
vitamin b12 deficiency | b12 deficiency, low b12
hyperkalemia
hypokalemia
hyponatremia
dehydration | dehydrated
gout | gouty arthritis
# musculoskeletal
osteoporosis | brittle bones
osteopenia
osteoarthritis | degenerative joint disease, djd, degenerative arthritis
rheumatoid arthritis | ra
arthritis
psoriatic arthritis
lupus | sle, systemic lupus erythematosus
fibromyalgia
ankylosing spondylitis
back pain | low back pain, lower back pain, backache, back problems, back ache
neck pain
joint pain | joint pains, arthralgia, joint aches
knee pain
shoulder pain
hip pain
sciatica
degenerative disc disease | ddd
herniated disc | slipped disc, bulging disc, herniated disk, disc herniation, bulging disk
spinal stenosis
scoliosis
carpal tunnel syndrome | carpal tunnel
tendonitis | tendinitis
plantar fasciitis
bursitis
fracture | broken bone, broken arm, broken leg, broken wrist, broken ankle, broken hip, broken foot, fractures
sprain | sprained ankle, ankle sprain, sprained wrist
muscle spasm | muscle spasms, spasms
muscle pain | myalgia, muscle aches, body aches, muscle ache
rotator cuff tear | torn rotator cuff
acl tear | torn acl
meniscus tear | torn meniscus, meniscal tear
tennis elbow | lateral epicondylitis
frozen shoulder
bunion | bunions
costochondritis
tmj disorder | tmj, temporomandibular joint disorder
chronic pain
# neurological
migraine | migraines, migraine headache, migraine headaches
headache | headaches, head ache, tension headache, tension headaches
epilepsy | seizure disorder
seizures | seizure, convulsions
dementia
alzheimers disease | alzheimer's, alzheimers, alzheimer's disease, alzheimer disease
parkinsons disease | parkinson's, parkinsons, parkinson's disease, parkinson disease
multiple sclerosis
neuropathy | peripheral neuropathy, diabetic neuropathy, nerve damage, polyneuropathy
restless legs syndrome | restless leg syndrome, rls, restless legs
bells palsy | bell's palsy
vertigo
dizziness | dizzy, lightheadedness, lightheaded, light-headed, light headed
syncope | fainting, fainted, passed out, blacked out
concussion | traumatic brain injury, tbi
numbness | numb
tingling | pins and needles
tremor | tremors
memory loss | forgetfulness, memory problems
insomnia | trouble sleeping, difficulty sleeping, cant sleep
narcolepsy
trigeminal neuralgia
myasthenia gravis
als | amyotrophic lateral sclerosis, lou gehrigs disease, lou gehrig's disease
huntingtons disease | huntington's disease
guillain-barre syndrome | guillain barre
cerebral palsy
spina bifida
muscular dystrophy
spinal cord injury
paralysis | paraplegia, quadriplegia, hemiplegia, paralyzed
meningitis
polio
# mental health and substance use
depression | depressed, major depressive disorder, mdd, clinical depression, depressive disorder
postpartum depression
anxiety | anxious, generalized anxiety disorder, anxiety disorder, anxiety attacks
panic disorder | panic attacks, panic attack
bipolar disorder | bipolar, manic depression
schizophrenia | schizoaffective disorder
ptsd | post traumatic stress disorder, post-traumatic stress disorder
ocd | obsessive compulsive disorder
adhd | attention deficit disorder, attention deficit hyperactivity disorder, attention deficit
autism | autism spectrum disorder
eating disorder | anorexia, bulimia
substance use disorder | drug abuse, substance abuse, drug addiction, addiction
alcohol use disorder | alcoholism, alcohol abuse, alcohol dependence, alcoholic
tobacco use | smoker, smoking, smokes, smoke, cigarettes, cigarette, tobacco, cigarette smoking, vaping, chewing tobacco
alcohol use | alcohol, drinking alcohol, drinks alcohol, etoh
suicidal ideation | suicidal thoughts, thoughts of suicide
personality disorder | borderline personality disorder
seasonal affective disorder
# skin
eczema | atopic dermatitis
psoriasis
acne
rosacea
dermatitis | contact dermatitis
hives | urticaria
rash | rashes, skin rash
cellulitis
shingles | herpes zoster, zoster
herpes | cold sores, cold sore, genital herpes, hsv
skin cancer
melanoma
basal cell carcinoma | basal cell
squamous cell carcinoma | squamous cell
warts | wart
fungal infection | athletes foot, athlete's foot, ringworm, toenail fungus, nail fungus
yeast infection
hair loss | alopecia
vitiligo
hidradenitis suppurativa
abscess
cyst | cysts, ovarian cyst
lipoma
# cancer
breast cancer
lung cancer
prostate cancer
colon cancer | colorectal cancer, bowel cancer
rectal cancer
pancreatic cancer
ovarian cancer
cervical cancer
uterine cancer | endometrial cancer
bladder cancer
kidney cancer | renal cell carcinoma, renal cancer
liver cancer
stomach cancer | gastric cancer
esophageal cancer
thyroid cancer
brain cancer | brain tumor, brain tumour, glioblastoma
leukemia | leukaemia
lymphoma | hodgkins lymphoma, hodgkin's lymphoma, non-hodgkins lymphoma, non-hodgkin's lymphoma, hodgkins disease
multiple myeloma | myeloma
testicular cancer
throat cancer | head and neck cancer, laryngeal cancer
bone cancer
cancer | cancers, malignancy, tumor, tumors, carcinoma
# infections
hiv | hiv/aids
sexually transmitted infection | std, sti, stds, syphilis
chlamydia
gonorrhea
hpv | human papillomavirus
lyme disease | lyme
mononucleosis | mono
chickenpox | chicken pox, varicella
measles
mumps
sepsis
mrsa
c diff | c. diff, clostridium difficile, c difficile
strep throat | strep
ear infection | ear infections, otitis media
conjunctivitis | pink eye
appendicitis
# women's health
endometriosis
polycystic ovary syndrome | pcos
menopause | postmenopausal, perimenopause, post menopausal
infertility
pregnancy | pregnant
miscarriage | miscarriages
preeclampsia
uterine fibroids | fibroids
heavy periods | menorrhagia, heavy menstrual bleeding
premenstrual syndrome | pms
# eye, ear, nose, throat
glaucoma
cataracts | cataract
macular degeneration
diabetic retinopathy | retinopathy
dry eye | dry eyes
hearing loss | hard of hearing
tinnitus | ringing in my ears, ringing in the ears
sore throat | pharyngitis, scratchy throat
tonsillitis
deviated septum
nasal polyps
nasal congestion | congestion, stuffy nose, runny nose, nasal drainage
laryngitis
nosebleeds | nosebleed, nose bleeds, epistaxis
# general symptoms
fever | fevers, febrile
chills
fatigue | tiredness, exhaustion, low energy
weight loss | unintentional weight loss
weight gain
night sweats
swelling | edema, swollen, leg swelling, swelling in my legs, ankle swelling, peripheral edema, lower extremity edema
blurry vision | blurred vision, blurriness
bruising | easy bruising, bruise easily
itching | itchy, pruritus
jaundice
loss of appetite | poor appetite, decreased appetite
lymphedema
snoring
`;

/** Condition lexicon entries (canonical diagnosis/symptom name → aliases). */
export const CONDITIONS: readonly LexiconEntry[] = parseTable(TABLE);
