import { describe, expect, it } from 'vitest';
import { describePresence, PresenceLine } from '../../src/console/presence.ts';

const member = (subject: string, connection: string) => ({ subject, connection });

describe('the console’s presence line', () => {
  it('names each other subject once with its number of tabs, the signed-in subject first as “you”', () => {
    expect(describePresence([], 'patient-7')).toBe('');
    expect(describePresence([member('patient-7', 'c1')], 'patient-7')).toBe('Also here: you in another tab');
    expect(
      describePresence(
        [
          member('patient-7', 'c1'),
          member('nurse-2', 'c2'),
          member('dr-lee', 'c3'),
          member('patient-7', 'c4'),
          member('dr-lee', 'c5'),
        ],
        'patient-7',
      ),
    ).toBe('Also here: you in 2 other tabs, dr-lee (2 tabs), nurse-2');
    // Before `ready` named the signed-in subject, everyone is shown by name.
    expect(describePresence([member('patient-7', 'c1')], undefined)).toBe('Also here: patient-7');
  });

  it('starts over from each subscribed list and follows joins and leaves by connection', () => {
    // Only `textContent` of the element is used: a plain object stands in for the DOM here.
    const element = { textContent: '' } as HTMLElement;
    const line = new PresenceLine(element);
    line.reset([member('patient-7', 'c1')], 'patient-7');
    expect(element.textContent).toBe('Also here: you in another tab');
    line.apply({ ...member('dr-lee', 'c2'), status: 'joined' });
    line.apply({ ...member('patient-7', 'c3'), status: 'joined' });
    expect(element.textContent).toBe('Also here: you in 2 other tabs, dr-lee');
    line.apply({ ...member('patient-7', 'c1'), status: 'left' });
    line.apply({ ...member('dr-lee', 'c9'), status: 'left' }); // a connection it never knew: nothing changes
    expect(element.textContent).toBe('Also here: you in another tab, dr-lee');
    line.apply({ subject: 42, connection: 'c2', status: 'left' });
    line.apply(null);
    expect(element.textContent).toBe('Also here: you in another tab, dr-lee');
    // A reconnect's list replaces what was known: leaves while away were never sent.
    line.reset([member('dr-lee', 'c2')], 'patient-7');
    expect(element.textContent).toBe('Also here: dr-lee');
    line.clear();
    expect(element.textContent).toBe('');
  });
});
