import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createExtractiveSummarizer, type SummaryTurn } from '../../src/context/summarizer.ts';
import { countWords, splitSentences } from '../../src/context/text.ts';

const ACI = new URL('../../../shared/data/aci_bench.dev.jsonl', import.meta.url);

function turns(...pairs: [string, string][]): SummaryTurn[] {
  return pairs.map(([role, text], i) => ({ number: i + 1, role, text }));
}

const VISIT = turns(
  ['doctor', 'Hi, how are you?'],
  ['patient', "I'm good, thank you. How are you?"],
  ['doctor', 'Okay. Great.'],
  ['patient', "I'm allergic to penicillin, it gives me hives."],
  ['doctor', 'Okay, thank you. Do you have any chest pain?'],
  ['patient', 'No.'],
  ['doctor', 'What medications are you taking?'],
  ['patient', 'Lisinopril 20 mg once daily, and I stopped the metformin in March.'],
  ['doctor', 'Thank you.'],
  ['patient', 'My mother had breast cancer.'],
);

describe('sentence splitting', () => {
  it("splits ACI's space-tokenised text and detokenises it", () => {
    expect(splitSentences('hi , martha . how are you ?')).toEqual(['hi, martha.', 'how are you?']);
  });

  it('does not split at "dr." or decimals', () => {
    expect(splitSentences('i saw dr. moore about the 2.5 mg dose. it went well.')).toEqual([
      'i saw dr. moore about the 2.5 mg dose.',
      'it went well.',
    ]);
  });
});

describe('createExtractiveSummarizer', () => {
  it('keeps clinical sentences and drops pleasantries', async () => {
    const s = await createExtractiveSummarizer().fold(null, VISIT);
    expect(s.text).toContain("Patient: I'm allergic to penicillin, it gives me hives.");
    expect(s.text).toContain('Patient: Lisinopril 20 mg once daily, and I stopped the metformin in March.');
    expect(s.text).toContain('Patient: My mother had breast cancer.');
    expect(s.text).not.toMatch(/how are you|Okay\. Great|Thank you\.$/im);
    expect(s.text).not.toContain("I'm good");
  });

  it('attaches a short answer to the question it answers', async () => {
    const s = await createExtractiveSummarizer().fold(null, VISIT);
    expect(s.text).toContain('Doctor: Do you have any chest pain? Patient: No.');
  });

  it('attaches an answer folded one turn after its question', async () => {
    const summarizer = createExtractiveSummarizer();
    const first = await summarizer.fold(null, VISIT.slice(0, 5));
    const second = await summarizer.fold(first, VISIT.slice(5, 6));
    expect(second.text).toContain('Doctor: Do you have any chest pain? Patient: No.');
    expect(second.text.match(/chest pain/g)).toHaveLength(1);
  });

  it('prefixes each line with its speaker and keeps conversation order', async () => {
    const s = await createExtractiveSummarizer().fold(null, VISIT);
    const order = s.sentences!.map((x) => x.turn);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (const line of s.text.split('\n')) expect(line).toMatch(/^(Doctor|Patient): /);
    expect(s.words).toBe(countWords(s.text));
    expect(s.throughTurn).toBe(10);
    expect(s.version).toBe(1);
  });

  it('respects maxWords by dropping the lowest-scoring sentences first', async () => {
    // 43 words of candidates; the allergy (9 words) and the medication line (13) score highest.
    const s = await createExtractiveSummarizer({ maxWords: 25 }).fold(null, VISIT);
    expect(s.words).toBeLessThanOrEqual(25);
    expect(s.text).toBe(
      "Patient: I'm allergic to penicillin, it gives me hives.\n" +
        'Patient: Lisinopril 20 mg once daily, and I stopped the metformin in March.',
    );
  });

  it('is deterministic', async () => {
    const a = await createExtractiveSummarizer({ maxWords: 40 }).fold(null, VISIT);
    const b = await createExtractiveSummarizer({ maxWords: 40 }).fold(null, VISIT);
    expect(b).toEqual(a);
  });

  it('folds incrementally: turn by turn equals all at once while under the cap', async () => {
    const summarizer = createExtractiveSummarizer();
    let rolling = null;
    for (const t of VISIT) rolling = await summarizer.fold(rolling, [t]);
    const once = await summarizer.fold(null, VISIT);
    expect(rolling!.text).toBe(once.text);
    expect(rolling!.version).toBe(10);
  });

  it('reuses the structured sentences of the previous summary instead of re-parsing its text', async () => {
    const summarizer = createExtractiveSummarizer();
    const first = await summarizer.fold(null, VISIT.slice(0, 4));
    const next = await summarizer.fold({ ...first, text: 'garbage that must not be re-read.' }, VISIT.slice(4));
    expect(next.text).not.toContain('garbage');
    expect(next.text).toContain('penicillin');
    expect(next.throughTurn).toBe(10);
    expect(next.version).toBe(2);
  });

  it('ignores turns already folded and returns the previous summary when nothing is new', async () => {
    const summarizer = createExtractiveSummarizer();
    const first = await summarizer.fold(null, VISIT);
    expect(await summarizer.fold(first, VISIT.slice(2, 5))).toBe(first);
    expect(await summarizer.fold(first, [])).toBe(first);
  });

  it('continues a summary written by another summarizer (text only)', async () => {
    const foreign = { text: 'Patient: Takes warfarin 5 mg daily.', words: 6, throughTurn: 10, version: 3 };
    const s = await createExtractiveSummarizer().fold(foreign, [
      { number: 11, role: 'patient', text: 'I also started aspirin 81 mg.' },
    ]);
    expect(s.text).toBe('Patient: Takes warfarin 5 mg daily.\nPatient: I also started aspirin 81 mg.');
    expect(s.version).toBe(4);
  });

  it('uses a custom salience scorer', async () => {
    const s = await createExtractiveSummarizer({ salience: (x) => (x.includes('cancer') ? 5 : 0) }).fold(null, VISIT);
    expect(s.text).toBe('Patient: My mother had breast cancer.');
  });

  it('takes spoken fillers, repeats and cut-off words out of the sentences it keeps', async () => {
    const s = await createExtractiveSummarizer().fold(
      null,
      turns(
        ['doctor', 'um , and so , i want , i want you to take the lisinopril in the morning , okay ?'],
        ['patient', 'i , i would like to try the l- lower dose , you know , because of the cough .'],
        ['patient', 'i had the surgery in twenty twenty and the er visit last week .'],
      ),
    );
    expect(s.text).toBe(
      'Doctor: i want you to take the lisinopril in the morning.\n' +
        'Patient: i would like to try the lower dose, because of the cough.\n' +
        'Patient: i had the surgery in twenty twenty and the er visit last week.',
    );
  });

  it('cuts run-on sentences to at most half the word cap, so one cannot fill it alone', async () => {
    const long = Array.from({ length: 8 }, (_, i) => `the knee pain was bad on day ${i + 1}`).join(', ');
    const s = await createExtractiveSummarizer({ maxWords: 40 }).fold(null, turns(['patient', `${long}.`]));
    expect(s.words).toBeLessThanOrEqual(40);
    for (const x of s.sentences!) expect(countWords(x.text)).toBeLessThanOrEqual(20);
    expect(s.text).toContain('day 8');
  });

  it('ranks by the residual salience it is given and leaves out sentences whose clinical content is captured', async () => {
    const captured = (x: string) =>
      /penicillin|lisinopril|metformin/i.test(x) ? 0 : 2 + (x.includes('cancer') ? 3 : 0);
    const s = await createExtractiveSummarizer().fold(null, VISIT, { residualSalience: captured });
    expect(s.text).not.toMatch(/penicillin|Lisinopril/);
    expect(s.text).toContain('Patient: My mother had breast cancer.');
    expect(s.text).toContain('Doctor: Do you have any chest pain? Patient: No.');
    // Without the hint, the same fold keeps them.
    expect((await createExtractiveSummarizer().fold(null, VISIT)).text).toMatch(/penicillin/);
  });

  it('refuses a nonsensical maxWords with TypeError', () => {
    expect(() => createExtractiveSummarizer({ maxWords: 0 })).toThrow(TypeError);
    expect(() => createExtractiveSummarizer({ maxWords: 12.5 })).toThrow(TypeError);
  });

  it.skipIf(!existsSync(ACI))(
    'keeps the medications and conditions of a real ACI-Bench visit (D2N001) within 500 words [skipped when ../shared/data is absent]',
    async () => {
      const lines = readFileSync(ACI, 'utf8').trim().split('\n');
      const visit = lines.map((l) => JSON.parse(l)).find((c) => c.id === 'aci-train-D2N001');
      const all: SummaryTurn[] = visit.turns.map((t: { role: string; text: string }, i: number) => ({
        number: i + 1,
        role: t.role,
        text: t.text,
      }));
      const summarizer = createExtractiveSummarizer();
      let s = null;
      for (const t of all) s = await summarizer.fold(s, [t]);
      const transcriptWords = all.reduce((n, t) => n + countWords(t.text), 0);
      expect(s!.words).toBeLessThanOrEqual(500);
      expect(s!.words).toBeLessThan(transcriptWords / 2);
      for (const fact of ['lisinopril', 'lasix', 'congestive heart failure', 'depression', 'hypertension']) {
        expect(s!.text).toContain(fact);
      }
      expect(s!.text).not.toMatch(/^\w+: (okay|yes|thank you)\.?$/m);
      expect(s!.throughTurn).toBe(all.length);
    },
  );
});
