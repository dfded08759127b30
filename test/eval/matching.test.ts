import { describe, expect, it } from 'vitest';
import { dialogueText, goldFacts, referenceParts } from '../../bench/eval/gold.ts';
import { GOLD_LEXICON_SHA256, loadGoldLexicon, parseGoldLexicon } from '../../bench/eval/gold-lexicon.ts';
import { Haystack, normalize, occursIn } from '../../bench/eval/normalize.ts';
import { type ContextView, type ProfileView, precisionOf, recallOf } from '../../bench/eval/score.ts';

/**
 * Pins the evaluation's gold-fact and matching rule (docs/EVALUATION.md,
 * "Gold facts and matching rule") on hand-written cases.
 */

const LEXICON = parseGoldLexicon(`
# sense | canonical | aliases
medication | acetaminophen | acetaminophen, tylenol
medication | lisinopril | lisinopril, zestril
medication | nystatin | nystatin
medication | penicillin | penicillin, pcn
medication | metoprolol | metoprolol, toprol, toprol xl
drugClass | statin | statin, statins, cholesterol medicine
drugClass | antihypertensive | antihypertensive, blood pressure medicine, high blood pressure medicine
condition | hypertension | hypertension, high blood pressure, htn
condition | congestive heart failure | congestive heart failure, chf, heart failure
condition | asthma | asthma
condition | crohn's disease | crohn's disease, crohns
condition | hives | hives, urticaria
condition | chest pain | chest pain, chest pains
condition | diabetes | diabetes, sugar
condition | breast cancer | breast cancer
allergen | peanut | peanut, peanuts
reaction | hives | hives, urticaria
procedure | mammogram | mammogram
ignore | oxygen saturation | oxygen saturation
medication | oxygen | oxygen, o2
`);

const names = (facts: { kind: string; canonical: string }[]) => facts.map((f) => `${f.kind}:${f.canonical}`);

function gold(reference: string, meta: Record<string, unknown>, dialogue: string[]) {
  const dialogueHay = new Haystack(dialogueText(dialogue.map((text) => ({ text }))));
  return names(goldFacts(LEXICON, referenceParts(reference, meta), dialogueHay));
}

const emptyProfile = (): ProfileView => ({ medications: [], allergies: [], conditions: [] });
const context = (profile: ProfileView, summary = '', recent: string[] = []): ContextView => ({
  profile,
  summary,
  recent: recent.map((content) => ({ content })),
  retrieved: [],
});

describe('normalisation and "occurs in" (§2)', () => {
  it('lower-cases, drops apostrophes, rejoins split clitics and makes words plural-insensitive', () => {
    expect(normalize("Crohn 's disease; High Blood-Pressures.")).toBe('crohn disease | high blood pressure |');
    expect(normalize('Crohn’s disease')).toBe('crohn disease');
    expect(normalize('statins')).toBe(normalize('statin'));
    expect(normalize('glasses')).toBe('glass');
    expect(normalize('diabetes')).toBe('diabete');
    expect(normalize('sinus pressure')).toBe('sinus pressure');
  });

  it('matches whole words only, in any case', () => {
    expect(occursIn('statin', 'He takes NYSTATIN ointment')).toBe(false);
    expect(occursIn('nystatin', 'He takes NYSTATIN ointment')).toBe(true);
    expect(occursIn('htn', 'history of HTN and CHF')).toBe(true);
    expect(occursIn('pain', 'painful knee')).toBe(false);
  });

  it('never matches across a segment break', () => {
    expect(occursIn('heart failure', 'heart, failure')).toBe(false);
    expect(occursIn('heart failure', 'my heart. failure to thrive')).toBe(false);
    expect(occursIn('heart failure', 'heart failure.')).toBe(true);
    expect(occursIn('lisinopril 2.5', 'lisinopril 2.5 mg')).toBe(true);
  });

  it('treats hyphens and slashes as spaces', () => {
    expect(occursIn('a fib', 'history of a-fib')).toBe(true);
    expect(occursIn('lisinopril', 'lisinopril/hydrochlorothiazide')).toBe(true);
  });
});

describe('term finding in the reference (§3)', () => {
  it('takes the longest phrase, all senses competing', () => {
    const found = LEXICON.find('Takes high blood pressure medicine for high blood pressure.');
    expect(found.map((m) => [m.phrase, [...m.senses.keys()]])).toEqual([
      ['high blood pressure medicine', ['drugClass']],
      ['high blood pressure', ['condition']],
    ]);
  });

  it('lets an ignored phrase block the shorter term inside it', () => {
    expect(LEXICON.find('Oxygen saturation 98 %.').map((m) => m.phrase)).toEqual(['oxygen saturation']);
    expect(LEXICON.find('On home oxygen.').map((m) => m.phrase)).toEqual(['oxygen']);
  });

  it('gives a phrase with several senses all of them', () => {
    const [hives] = LEXICON.find('Hives.');
    expect(Object.fromEntries(hives!.senses)).toEqual({ condition: 'hives', reaction: 'hives' });
  });
});

describe('gold facts of a conversation (§3)', () => {
  it('takes medications and conditions from MTS MEDICATIONS and PASTMEDICALHX sections', () => {
    expect(
      gold('Zestril for high blood pressure.', { section_header: 'MEDICATIONS' }, ['I take zestril for my htn.']),
    ).toEqual(['medication:lisinopril', 'condition:hypertension']);
    expect(gold('Asthma and CHF.', { section_header: 'PASTMEDICALHX' }, ['asthma and heart failure'])).toEqual([
      'condition:asthma',
      'condition:congestive heart failure',
    ]);
  });

  it('takes nothing from other MTS sections', () => {
    expect(gold('Asthma.', { section_header: 'FAM/SOCHX' }, ['my mother has asthma'])).toEqual([]);
    expect(gold('Asthma.', { section_header: 'GENHX' }, ['asthma'])).toEqual([]);
  });

  it('reads drugs and allergens in allergy text as allergies, and nothing else there', () => {
    expect(
      gold('Penicillin, peanuts. Asthma, hives.', { section_header: 'ALLERGY' }, [
        'I am allergic to PCN and peanuts, I get hives; I have asthma',
      ]),
    ).toEqual(['allergy:penicillin', 'allergy:peanut']);
    expect(gold('Statins.', { section_header: 'ALLERGY' }, ['statins give me hives'])).toEqual(['allergy:statin']);
  });

  it('does not make a drug class a gold medication', () => {
    expect(gold('On a statin.', { section_header: 'MEDICATIONS' }, ['i take a statin'])).toEqual([]);
  });

  it('keeps only facts the dialogue also says, by any synonym', () => {
    expect(
      gold('Tylenol and lisinopril.', { section_header: 'MEDICATIONS' }, ['I take acetaminophen sometimes.']),
    ).toEqual(['medication:acetaminophen']);
  });

  it('counts a fact once however often the note names it', () => {
    expect(gold('HTN. Hypertension. High blood pressure.', { section_header: 'PASTMEDICALHX' }, ['htn'])).toEqual([
      'condition:hypertension',
    ]);
  });

  it('splits a full note at its header lines: allergies, family history skipped, the rest, complaints', () => {
    const note = [
      'CHIEF COMPLAINT',
      '',
      'Chest pain.',
      '',
      'FAMILY HISTORY',
      '',
      'Mother had breast cancer.',
      '',
      'ALLERGIES',
      '',
      'Penicillin.',
      '',
      'ASSESSMENT AND PLAN',
      '',
      'Start Toprol XL. Denies asthma.',
    ].join('\n');
    const meta = { chief_complaint: 'chest pain', secondary_complaints: ['diabetes'] };
    const dialogue = [
      'any chest pains ?',
      "my mom had breast cancer . i ca n't take penicillin .",
      "we 'll start metoprolol . no asthma ?",
      'my sugar is fine',
    ];
    expect(gold(note, meta, dialogue)).toEqual([
      'condition:chest pain',
      'condition:diabetes',
      'medication:metoprolol',
      'condition:asthma',
      'allergy:penicillin',
    ]);
  });

  it('rejoins split clitics of tokenised ACI text before matching', () => {
    expect(gold("Crohn's disease.", { section_header: 'PASTMEDICALHX' }, ["i have crohn 's disease"])).toEqual([
      "condition:crohn's disease",
    ]);
  });
});

describe('recall (§4)', () => {
  const facts = () => {
    const dialogue = new Haystack('tylenol, toprol, penicillin allergy, high blood pressure, asthma');
    const parts = referenceParts('Tylenol, Toprol. Hypertension and asthma.', { section_header: 'PASTMEDICALHX' });
    return goldFacts(LEXICON, parts, dialogue);
  };

  it('credits a profile name of the same kind, any status, by any synonym', () => {
    const profile: ProfileView = {
      medications: [
        { name: 'acetaminophen', status: 'stopped' },
        { name: 'metoprolol succinate', status: 'active' },
      ],
      allergies: [],
      conditions: [{ name: 'high blood pressure', status: 'negated' }],
    };
    expect(recallOf(facts(), context(profile)).map((r) => [r.canonical, r.recalled])).toEqual([
      ['acetaminophen', true],
      ['metoprolol', true],
      ['hypertension', true],
      ['asthma', false],
    ]);
  });

  it('credits the summary text, whatever the kind', () => {
    const recall = recallOf(facts(), context(emptyProfile(), 'Patient: I use TYLENOL. History of asthma.'));
    expect(recall.filter((r) => r.recalled).map((r) => r.canonical)).toEqual(['acetaminophen', 'asthma']);
  });

  it('does not credit a profile name of another kind', () => {
    const [allergy] = goldFacts(
      LEXICON,
      referenceParts('Penicillin.', { section_header: 'ALLERGY' }),
      new Haystack('allergic to penicillin'),
    );
    const profile = { ...emptyProfile(), medications: [{ name: 'penicillin', status: 'negated' }] };
    expect(recallOf([allergy!], context(profile))[0]).toMatchObject({ recalled: false, inContext: false });
    const withAllergy = { ...emptyProfile(), allergies: [{ substance: 'pcn', status: 'active' }] };
    expect(recallOf([allergy!], context(withAllergy))[0]?.recalled).toBe(true);
  });

  it('counts recent turns only in the diagnostic context recall', () => {
    const recall = recallOf(facts(), context(emptyProfile(), '', ['i have asthma']));
    expect(recall.find((r) => r.canonical === 'asthma')).toMatchObject({ recalled: false, inContext: true });
  });

  it('does not credit a name that merely contains a longer word', () => {
    const [med] = goldFacts(
      LEXICON,
      referenceParts('Lisinopril.', { section_header: 'MEDICATIONS' }),
      new Haystack('lisinopril'),
    );
    const profile = { ...emptyProfile(), medications: [{ name: 'lisinoprilx' }] };
    expect(recallOf([med!], context(profile))[0]?.recalled).toBe(false);
  });
});

describe('precision (§5)', () => {
  const reference = new Haystack('Hypertension. Takes Zestril.');
  const dialogue = new Haystack('i get chest pains . i use my blood pressure medicine .');

  it('supports a fact named in the note or the dialogue, by any synonym', () => {
    const profile: ProfileView = {
      medications: [{ name: 'lisinopril' }, { name: 'antihypertensive' }, { name: 'warfarin' }],
      allergies: [],
      conditions: [{ name: 'high blood pressure', status: 'negated' }, { name: 'chest pain' }],
    };
    const { items } = precisionOf(LEXICON, profile, reference, dialogue);
    expect(items.map((i) => [i.name, i.supported, i.noteSupported])).toEqual([
      ['lisinopril', true, true],
      ['antihypertensive', true, false],
      ['warfarin', false, false],
      ['high blood pressure', true, true],
      ['chest pain', true, false],
    ]);
  });

  it('leaves the "no medications" and "no known drug allergies" markers out', () => {
    const profile: ProfileView = {
      medications: [{ name: 'none', status: 'negated' }],
      allergies: [{ substance: 'drug', status: 'negated' }],
      conditions: [],
    };
    expect(precisionOf(LEXICON, profile, reference, dialogue)).toEqual({ items: [], markers: 2 });
  });
});

describe('the frozen gold lexicon (§1)', () => {
  it('loads with the recorded hash and finds real terms', () => {
    const lexicon = loadGoldLexicon();
    expect(lexicon.sha256).toBe(GOLD_LEXICON_SHA256);
    const dialogue = new Haystack('you take lasix and zestril for the heart failure ?');
    const parts = referenceParts('We will increase her lisinopril and start Lasix for CHF.', {});
    expect(names(goldFacts(lexicon, parts, dialogue))).toEqual([
      'medication:lisinopril',
      'medication:furosemide',
      'condition:congestive heart failure',
    ]);
  });
});
