/**
 * Medications: canonical (generic, lower case) name, then brand names,
 * abbreviations and lay names that mean the same drug. Combination products
 * use `a/b`. Aliases that are everyday English words (e.g. "the pill",
 * "potassium" alone, which is more often a lab value) are left out on purpose.
 */
import { type LexiconEntry, parseTable } from './table.ts';

const TABLE = `
# cardiovascular
lisinopril | prinivil, zestril
lisinopril/hydrochlorothiazide | zestoretic, prinzide
enalapril | vasotec
ramipril | altace
benazepril | lotensin
quinapril | accupril
captopril | capoten
fosinopril | monopril
losartan | cozaar
losartan/hydrochlorothiazide | hyzaar
valsartan | diovan
valsartan/hydrochlorothiazide | diovan hct
olmesartan | benicar
irbesartan | avapro
irbesartan/hydrochlorothiazide | avalide
candesartan | atacand
telmisartan | micardis
sacubitril/valsartan | entresto
amlodipine | norvasc, amlodipine besylate
amlodipine/benazepril | lotrel
nifedipine | procardia, adalat
diltiazem | cardizem, tiazac, cartia
verapamil | calan, isoptin
metoprolol | lopressor, toprol, toprol xl, metoprolol succinate, metoprolol tartrate
atenolol | tenormin
carvedilol | coreg
propranolol | inderal
bisoprolol | zebeta
bisoprolol/hydrochlorothiazide | ziac
nebivolol | bystolic
labetalol | trandate
hydrochlorothiazide | hctz, microzide
chlorthalidone | thalitone
furosemide | lasix
bumetanide | bumex
torsemide | demadex
spironolactone | aldactone
triamterene/hydrochlorothiazide | dyazide, maxzide
clonidine | catapres
hydralazine | apresoline
isosorbide mononitrate | imdur
isosorbide dinitrate | isordil, dilatrate, dilatrate-sr
nitroglycerin | nitro, nitrostat, nitroglycerin tablets
digoxin | lanoxin
amiodarone | pacerone, cordarone
sotalol | betapace
flecainide | tambocor
dofetilide | tikosyn
doxazosin | cardura
terazosin | hytrin
prazosin | minipress
ranolazine | ranexa
atorvastatin | lipitor
simvastatin | zocor
rosuvastatin | crestor
pravastatin | pravachol
lovastatin | mevacor
pitavastatin | livalo
ezetimibe | zetia
ezetimibe/simvastatin | vytorin
fenofibrate | tricor, trilipix
gemfibrozil | lopid
niacin | niaspan
evolocumab | repatha
alirocumab | praluent
icosapent ethyl | vascepa
fish oil | omega-3, omega 3, omega-3 fatty acids, omega 3 fatty acids, lovaza
warfarin | coumadin, jantoven
apixaban | eliquis
rivaroxaban | xarelto
dabigatran | pradaxa
edoxaban | savaysa
heparin
enoxaparin | lovenox
clopidogrel | plavix
prasugrel | effient
ticagrelor | brilinta
aspirin | asprin, asa, baby aspirin, ecotrin, bayer aspirin, low dose aspirin, low-dose aspirin, enteric coated aspirin
cilostazol | pletal
# diabetes and endocrine
metformin | glucophage, glumetza, fortamet, metformin er
glipizide | glucotrol
glyburide | micronase, diabeta, glynase
glimepiride | amaryl
pioglitazone | actos
sitagliptin | januvia
sitagliptin/metformin | janumet
linagliptin | tradjenta
saxagliptin | onglyza
empagliflozin | jardiance
dapagliflozin | farxiga
canagliflozin | invokana
liraglutide | victoza, saxenda
semaglutide | ozempic, wegovy, rybelsus
dulaglutide | trulicity
exenatide | byetta, bydureon
tirzepatide | mounjaro, zepbound
insulin | insulin pump, insulin shots, insulin injections, long acting insulin, long-acting insulin, short acting insulin, sliding scale insulin
insulin glargine | lantus, basaglar, toujeo, semglee
insulin lispro | humalog, admelog
insulin aspart | novolog, fiasp
insulin detemir | levemir
insulin degludec | tresiba
nph insulin | humulin n, novolin n, humulin, novolin
levothyroxine | synthroid, levoxyl, unithroid, euthyrox, tirosint
liothyronine | cytomel
armour thyroid | armour, desiccated thyroid
methimazole | tapazole
propylthiouracil | ptu
prednisone | deltasone
prednisolone | orapred
methylprednisolone | depo-medrol, depomedrol, medrol, medrol dose pack, medrol dosepak, solu-medrol
dexamethasone | decadron
hydrocortisone | cortef, hydrocortisone cream
fludrocortisone | florinef
alendronate | fosamax
ibandronate | boniva
risedronate | actonel
zoledronic acid | reclast, zometa
denosumab | prolia, xgeva
raloxifene | evista
teriparatide | forteo
allopurinol | zyloprim
febuxostat | uloric
colchicine | colcrys, mitigare
desmopressin | ddavp
cinacalcet | sensipar
# gastrointestinal
omeprazole | prilosec
esomeprazole | nexium
pantoprazole | protonix
lansoprazole | prevacid
rabeprazole | aciphex
dexlansoprazole | dexilant
famotidine | pepcid
ranitidine | zantac
cimetidine | tagamet
sucralfate | carafate
calcium carbonate | tums, rolaids
ondansetron | zofran
promethazine | phenergan
metoclopramide | reglan
prochlorperazine | compazine
docusate | colace, stool softener, stool softeners
senna | senokot
polyethylene glycol | miralax
bisacodyl | dulcolax
loperamide | imodium
bismuth subsalicylate | pepto-bismol, pepto bismol, pepto
dicyclomine | bentyl
hyoscyamine | levsin
mesalamine | lialda, asacol, pentasa, apriso
sulfasalazine | azulfidine
budesonide | entocort, uceris, pulmicort
linaclotide | linzess
lubiprostone | amitiza
simethicone | gas-x
psyllium | metamucil, fiber supplement
lactulose
rifaximin | xifaxan
ursodiol | actigall
pancrelipase | creon
# respiratory and allergy
albuterol | proventil, ventolin, proair, albuterol inhaler, rescue inhaler, salbutamol, albuterol nebulizer
levalbuterol | xopenex
fluticasone | flonase, flovent, fluticasone nasal spray, fluticasone inhaler
fluticasone/salmeterol | advair, advair diskus, wixela
budesonide/formoterol | symbicort
mometasone/formoterol | dulera
fluticasone/vilanterol | breo, breo ellipta
salmeterol | serevent, salmeterol inhaler
tiotropium | spiriva
ipratropium | atrovent
ipratropium/albuterol | combivent, duoneb
umeclidinium/vilanterol | anoro
montelukast | singulair
beclomethasone | qvar, beconase
mometasone | nasonex, asmanex
triamcinolone | nasacort, kenalog
benzonatate | tessalon, tessalon perles
guaifenesin | mucinex, robitussin
dextromethorphan | delsym
pseudoephedrine | sudafed
oxymetazoline | afrin
azelastine | astelin, astepro
cetirizine | zyrtec
loratadine | claritin
fexofenadine | allegra
levocetirizine | xyzal
desloratadine | clarinex
diphenhydramine | benadryl
hydroxyzine | atarax, vistaril
chlorpheniramine | chlor-trimeton
meclizine | antivert, bonine
cromolyn | nasalcrom
roflumilast | daliresp
theophylline | theo-24
omalizumab | xolair
dupilumab | dupixent
epinephrine | epipen, epi pen, epi-pen, epinephrine auto-injector
oxygen | home oxygen, home o2, o2, oxygen therapy, supplemental oxygen
# pain, musculoskeletal, migraine
acetaminophen | tylenol, paracetamol, apap, extra strength tylenol, tylenol arthritis
acetaminophen/diphenhydramine | tylenol pm
acetaminophen/aspirin/caffeine | excedrin, excedrin migraine
ibuprofen | advil, motrin
naproxen | aleve, naprosyn, anaprox
meloxicam | mobic
celecoxib | celebrex
diclofenac | voltaren, cataflam, voltaren gel, diclofenac gel
ketorolac | toradol
indomethacin | indocin
nabumetone | relafen
oxaprozin | daypro
etodolac | lodine
tramadol | ultram
oxycodone | oxycontin, roxicodone
oxycodone/acetaminophen | percocet, endocet
hydrocodone/acetaminophen | vicodin, norco, lortab, hydrocodone
hydromorphone | dilaudid
morphine | ms contin
fentanyl | duragesic, fentanyl patch
codeine
acetaminophen/codeine | tylenol #3, tylenol 3, tylenol with codeine
methadone
buprenorphine/naloxone | suboxone
buprenorphine | subutex, butrans
naloxone | narcan
naltrexone | vivitrol
tapentadol | nucynta
meperidine | demerol
butalbital/acetaminophen/caffeine | fioricet
propoxyphene/acetaminophen | darvocet
meprobamate/aspirin | equagesic
sumatriptan | imitrex
rizatriptan | maxalt
zolmitriptan | zomig
eletriptan | relpax
rimegepant | nurtec
ubrogepant | ubrelvy
erenumab | aimovig
lidocaine | lidoderm, lidocaine patch, xylocaine
cyclobenzaprine | flexeril
methocarbamol | robaxin
tizanidine | zanaflex
baclofen | lioresal
carisoprodol | soma
metaxalone | skelaxin
orphenadrine | norflex
# neurology
gabapentin | neurontin
pregabalin | lyrica
levetiracetam | keppra
phenytoin | dilantin
carbamazepine | tegretol
oxcarbazepine | trileptal
lamotrigine | lamictal
divalproex | depakote, valproic acid, valproate
topiramate | topamax
lacosamide | vimpat
zonisamide | zonegran
phenobarbital
donepezil | aricept
memantine | namenda
rivastigmine | exelon
carbidopa/levodopa | sinemet, levodopa
ropinirole | requip
pramipexole | mirapex
amantadine | symmetrel
pyridostigmine | mestinon
dimethyl fumarate | tecfidera
glatiramer | copaxone
ocrelizumab | ocrevus
fingolimod | gilenya
natalizumab | tysabri
# psychiatry and sleep
sertraline | zoloft
fluoxetine | prozac, sarafem
citalopram | celexa
escitalopram | lexapro
paroxetine | paxil
venlafaxine | effexor, effexor xr
desvenlafaxine | pristiq
duloxetine | cymbalta
bupropion | wellbutrin, wellbutrin sr, wellbutrin xl, zyban
mirtazapine | remeron
trazodone | desyrel
amitriptyline | elavil
nortriptyline | pamelor
doxepin | silenor
vortioxetine | trintellix
vilazodone | viibryd
buspirone | buspar
alprazolam | xanax
lorazepam | ativan
clonazepam | klonopin
diazepam | valium
temazepam | restoril
chlordiazepoxide | librium
zolpidem | ambien
eszopiclone | lunesta
melatonin
quetiapine | seroquel
aripiprazole | abilify
risperidone | risperdal
paliperidone | invega
olanzapine | zyprexa
ziprasidone | geodon
lurasidone | latuda
haloperidol | haldol
clozapine | clozaril
cariprazine | vraylar
lithium | lithobid
methylphenidate | ritalin, concerta, metadate
amphetamine/dextroamphetamine | adderall, adderall xr
lisdexamfetamine | vyvanse
dexmethylphenidate | focalin
atomoxetine | strattera
guanfacine | intuniv, tenex
pemoline | cylert
modafinil | provigil
armodafinil | nuvigil
varenicline | chantix
nicotine replacement | nicotine patch, nicotine gum, nicoderm, nicorette
disulfiram | antabuse
# rheumatology and immunology
hydroxychloroquine | plaquenil
methotrexate | trexall, otrexup
leflunomide | arava
adalimumab | humira
etanercept | enbrel
infliximab | remicade
ustekinumab | stelara
secukinumab | cosentyx
tofacitinib | xeljanz
apremilast | otezla
azathioprine | imuran
mycophenolate | cellcept, myfortic
tacrolimus | prograf, protopic
cyclosporine | neoral, sandimmune, restasis
sirolimus | rapamune
# women's and men's health, urology
estradiol | estrace, vivelle, climara, estradiol patch
conjugated estrogens | premarin
medroxyprogesterone | provera, depo-provera, depo provera
progesterone | prometrium
norethindrone | aygestin
birth control | birth control pills, birth control pill, oral contraceptive, oral contraceptives, contraceptive pill, ocp, ocps, alesse, ovcon, yaz, yasmin, loestrin, sprintec, nuvaring, mirena, nexplanon, depo shot, microgestin, spermicide
clomiphene | clomid
letrozole | femara
anastrozole | arimidex
tamoxifen | nolvadex
exemestane | aromasin
testosterone | androgel, testosterone cypionate, depo-testosterone, testosterone injections
finasteride | proscar, propecia
dutasteride | avodart
tamsulosin | flomax
alfuzosin | uroxatral
silodosin | rapaflo
sildenafil | viagra, revatio
tadalafil | cialis
oxybutynin | ditropan
tolterodine | detrol
solifenacin | vesicare
mirabegron | myrbetriq
phenazopyridine | pyridium
# anti-infectives
amoxicillin | amoxil
amoxicillin/clavulanate | augmentin
penicillin | pcn, penicillin vk, pen vk, penicillins
ampicillin
dicloxacillin
cephalexin | keflex
cefdinir | omnicef
cefuroxime | ceftin
ceftriaxone | rocephin
cefazolin | ancef
azithromycin | zithromax, z-pack, z pack, zpack, z-pak, zpak
clarithromycin | biaxin
erythromycin
doxycycline | vibramycin, doryx
minocycline | minocin, solodyn
tetracycline
ciprofloxacin | cipro
levofloxacin | levaquin
moxifloxacin | avelox
sulfamethoxazole/trimethoprim | bactrim, bactrim ds, septra, smz-tmp
nitrofurantoin | macrobid, macrodantin
metronidazole | flagyl
clindamycin | cleocin
vancomycin | vanco
linezolid | zyvox
rifampin | rifadin
isoniazid | inh
fluconazole | diflucan
nystatin
terbinafine | lamisil
clotrimazole | lotrimin
ketoconazole | nizoral
acyclovir | zovirax
valacyclovir | valtrex
oseltamivir | tamiflu
nirmatrelvir/ritonavir | paxlovid
mupirocin | bactroban
neomycin/polymyxin/bacitracin | neosporin, triple antibiotic ointment
ivermectin | stromectol
abacavir/lamivudine/zidovudine | trizivir
emtricitabine/tenofovir | truvada, descovy
bictegravir/emtricitabine/tenofovir | biktarvy
# dermatology
isotretinoin | accutane, absorica, claravis
tretinoin | retin-a, retin a
adapalene | differin
adapalene/benzoyl peroxide | epiduo
benzoyl peroxide
clobetasol | temovate
fluocinonide | lidex
betamethasone | diprolene, celestone
pimecrolimus | elidel
clotrimazole/betamethasone | lotrisone
permethrin | elimite
silicone scar gel | mederma
# oncology
pembrolizumab | keytruda
paclitaxel | taxol
cisplatin
carboplatin
etoposide
cyclophosphamide | cytoxan
doxorubicin | adriamycin
lenalidomide | revlimid
nivolumab | opdivo
trastuzumab | herceptin
bevacizumab | avastin
rituximab | rituxan
imatinib | gleevec
capecitabine | xeloda
# eye
latanoprost | xalatan
timolol | timoptic
brimonidine | alphagan
artificial tears | eye drops
# renal and blood
sevelamer | renvela
calcitriol | rocaltrol
epoetin | epogen, procrit, erythropoietin
# vitamins, minerals, supplements
multivitamin | multivitamins, multi-vitamin, multi vitamin, daily vitamin, prenatal vitamin, prenatal vitamins, centrum, one a day
vitamin d | vitamin d3, cholecalciferol, ergocalciferol, vit d
vitamin b12 | b12, cyanocobalamin, b12 shots, b12 injections
vitamin b complex | b complex, b-complex
vitamin c | ascorbic acid
vitamin e
folic acid | folate
iron | ferrous sulfate, iron supplement, iron supplements, iron pills, ferrous gluconate
calcium | calcium supplement, calcium supplements, calcium citrate, citracal, os-cal, calcium pills
magnesium | magnesium oxide, mag oxide, magnesium supplement
potassium chloride | k-dur, klor-con, potassium supplement, potassium pills
zinc
glucosamine | glucosamine chondroitin
coenzyme q10 | coq10
probiotic | probiotics
turmeric
biotin
st johns wort | st. john's wort
cbd | cbd oil
phentermine | adipex
papaverine
capsaicin | zostrix, capsaicin cream
aluminum hydroxide/magnesium hydroxide | mylanta, maalox
bacitracin
cetaphil
medifast | medifast shakes
medical marijuana | marijuana, cannabis
`;

/** Medication lexicon entries (canonical generic-ish name → aliases). */
export const MEDICATIONS: readonly LexiconEntry[] = parseTable(TABLE);
