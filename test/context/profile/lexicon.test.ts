import { describe, expect, it } from 'vitest';
import { canonicalName } from '../../../src/context/profile/index.ts';
import { CONDITIONS } from '../../../src/context/profile/lexicon/conditions.ts';
import { MEDICATIONS } from '../../../src/context/profile/lexicon/medications.ts';

describe('clinical lexicons', () => {
  it('know at least 400 medication names and 300 conditions', () => {
    expect(MEDICATIONS.reduce((n, e) => n + e.aliases.length, 0)).toBeGreaterThanOrEqual(400);
    expect(CONDITIONS.length).toBeGreaterThanOrEqual(300);
  });

  it.each([
    ['Tylenol', 'acetaminophen'],
    ['advil', 'ibuprofen'],
    ['Motrin', 'ibuprofen'],
    ['Synthroid', 'levothyroxine'],
    ['coumadin', 'warfarin'],
    ['Lasix', 'furosemide'],
    ['Norvasc', 'amlodipine'],
    ['zoloft', 'sertraline'],
    ['Prozac', 'fluoxetine'],
    ['Xanax', 'alprazolam'],
    ['Ambien', 'zolpidem'],
    ['Flonase', 'fluticasone'],
    ['Claritin', 'loratadine'],
    ['Zyrtec', 'cetirizine'],
    ['Benadryl', 'diphenhydramine'],
    ['vitamin D3', 'vitamin d'],
    ['fish oil', 'fish oil'],
    ['multivitamins', 'multivitamin'],
    ['birth control pills', 'birth control'],
    ['Lortab', 'hydrocodone/acetaminophen'],
    ['Bactrim', 'sulfamethoxazole/trimethoprim'],
  ])('medication %s → %s', (alias, canonical) => {
    expect(canonicalName('medication', alias)).toBe(canonical);
  });

  it.each([
    ['high blood pressure', 'hypertension'],
    ['heart attack', 'myocardial infarction'],
    ['afib', 'atrial fibrillation'],
    ['acid reflux', 'gerd'],
    ['sugar diabetes', 'diabetes'],
    ['kidney stones', 'kidney stones'],
    ['migraines', 'migraine'],
    ["crohn's", 'crohns disease'],
  ])('condition %s → %s', (alias, canonical) => {
    expect(canonicalName('condition', alias)).toBe(canonical);
  });

  it('covers the drugs named in the MTS-Dialog MEDICATIONS/ALLERGY references', () => {
    const named = (
      'abilify accutane acetaminophen aciphex advair albuterol allegra amoxicillin atenolol augmentin avalide bactrim ' +
      'bactroban beclomethasone benicar cephalexin cipro ciprofloxacin citalopram claritin clonidine cyclobenzaprine ' +
      'cylert daypro detrol dilantin dilatrate diovan equagesic estradiol flagyl flonase fluticasone glucosamine ' +
      'glucotrol ibuprofen insulin invega klonopin lamisil levaquin lipitor lisinopril loratadine lortab macrobid ' +
      'metformin methocarbamol mevacor micronase minocin montelukast multivitamin naprosyn nexium norvasc nystatin ' +
      'omeprazole oxycontin penicillin pravachol prilosec proventil remeron risperdal salmeterol synthroid toprol ' +
      'tramadol triamcinolone trizivir tylenol vicodin wellbutrin ziac'
    ).split(' ');
    expect(named.filter((n) => canonicalName('medication', n) === undefined)).toEqual([]);
  });
});
