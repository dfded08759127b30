/**
 * The Continuum web console's chat app (served at `/console`, bundled by the
 * server with esbuild at first request). Sign in with a tenant API key and a
 * subject; the SDK turns them into short-lived tokens and keeps them fresh.
 * The key lives only in this tab's memory: it is never written to storage.
 */
import { type ContinuumClient, type Conversation, createClient } from '../client/index.ts';
import { Alerts } from './alerts.ts';
import { ConversationList } from './conversation-list.ts';
import { ConversationView } from './conversation-view.ts';
import { byId } from './dom.ts';

/** The subject (not a secret) is remembered for this tab, to fill the form after a reload. */
const SUBJECT_KEY = 'continuum.console.subject';
/** `#/conversations/<id>`: the open conversation, so back and forward and a shared link work. */
const HASH = /^#\/conversations\/([^/?#]+)$/;

class ConsoleApp {
  readonly #alerts = new Alerts();
  readonly #list: ConversationList;
  readonly #view: ConversationView;
  readonly #signinView = byId('signin-view');
  readonly #appView = byId('app-view');
  readonly #form = byId<HTMLFormElement>('signin-form');
  readonly #apiKey = byId<HTMLInputElement>('api-key');
  readonly #subject = byId<HTMLInputElement>('subject');
  readonly #submit = byId<HTMLButtonElement>('signin-submit');
  readonly #sessionBar = byId('session-bar');
  readonly #sessionSubject = byId('session-subject');
  readonly #newButton = byId<HTMLButtonElement>('new-conversation');
  readonly #contextToggle = byId<HTMLButtonElement>('context-toggle');
  #client: ContinuumClient | undefined;

  constructor() {
    this.#list = new ConversationList(
      (conversation) => void this.#open(conversation, true),
      (error) => this.#alerts.show(error),
    );
    this.#view = new ConversationView({
      alerts: this.#alerts,
      onChanged: (conversation) => this.#list.upsert(conversation),
    });
    this.#subject.value = readSubject();
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#signIn();
    });
    byId('sign-out').addEventListener('click', () => void this.#signOut());
    this.#newButton.addEventListener('click', () => void this.#create());
    byId('back-to-list').addEventListener('click', () => this.#showList());
    this.#contextToggle.addEventListener('click', () => this.#toggleContext());
    window.addEventListener('hashchange', () => void this.#openFromHash());
    (this.#subject.value === '' ? this.#subject : this.#apiKey).focus();
  }

  async #signIn(): Promise<void> {
    const apiKey = this.#apiKey.value.trim();
    const subject = this.#subject.value.trim();
    this.#apiKey.setAttribute('aria-invalid', String(apiKey === ''));
    this.#subject.setAttribute('aria-invalid', String(subject === ''));
    if (apiKey === '' || subject === '') {
      this.#alerts.show(new Error('Enter both the API key and the subject.'));
      (apiKey === '' ? this.#apiKey : this.#subject).focus();
      return;
    }
    this.#alerts.clear();
    this.#submit.disabled = true;
    this.#submit.textContent = 'Signing in…';
    const client = createClient({
      baseUrl: window.location.origin,
      apiKey,
      subject,
      onRefreshRejected: (error) => this.#alerts.show(error),
    });
    try {
      // The first token request checks the key and subject before anything is shown.
      await client.tokens.accessToken();
      this.#client = client;
      this.#apiKey.value = '';
      writeSubject(subject);
      this.#sessionSubject.textContent = subject;
      this.#sessionBar.hidden = false;
      this.#signinView.hidden = true;
      this.#appView.hidden = false;
      await this.#list.reset(client);
      if (!(await this.#openFromHash())) this.#newButton.focus();
    } catch (error) {
      this.#alerts.show(error);
      this.#apiKey.focus();
    } finally {
      this.#submit.disabled = false;
      this.#submit.textContent = 'Sign in';
    }
  }

  async #signOut(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#view.close();
    this.#list.clear();
    this.#appView.hidden = true;
    this.#sessionBar.hidden = true;
    this.#signinView.hidden = false;
    this.#alerts.clear();
    if (window.location.hash !== '') history.replaceState(null, '', window.location.pathname);
    this.#apiKey.focus();
    try {
      await client?.signOut(); // revokes the refresh-token family on the server
    } catch (error) {
      this.#alerts.show(error);
    }
  }

  async #create(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#alerts.clear();
    this.#newButton.disabled = true;
    try {
      const conversation = await client.conversations.create({});
      this.#list.upsert(conversation, true);
      await this.#open(conversation, true);
    } catch (error) {
      this.#alerts.show(error);
    } finally {
      this.#newButton.disabled = false;
    }
  }

  /** Open a conversation; `focus` moves the keyboard to the composer (the user asked for it). */
  async #open(conversation: Conversation, focus: boolean): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#alerts.clear();
    const hash = `#/conversations/${encodeURIComponent(conversation.id)}`;
    if (window.location.hash !== hash) history.pushState(null, '', hash);
    this.#list.select(conversation.id);
    this.#appView.dataset['open'] = 'true';
    this.#setContext(false);
    const opened = this.#view.open(client, conversation);
    if (focus) this.#view.focusComposer();
    await opened;
  }

  /** Open the conversation the address names, if any; true when it did. */
  async #openFromHash(): Promise<boolean> {
    const client = this.#client;
    const match = HASH.exec(window.location.hash);
    if (!client || !match) {
      if (client && !match && this.#view.openId !== undefined) this.#showList();
      return false;
    }
    const id = decodeURIComponent(match[1]!);
    if (this.#view.openId === id) return true;
    try {
      const conversation = await client.conversations.get(id);
      await this.#open(conversation, true);
      return true;
    } catch (error) {
      this.#alerts.show(error);
      return false;
    }
  }

  /** Back to the list (phone-sized screens show one or the other). */
  #showList(): void {
    const open = this.#view.openId;
    this.#view.close();
    this.#list.select(undefined);
    this.#appView.dataset['open'] = 'false';
    if (window.location.hash !== '') history.pushState(null, '', window.location.pathname);
    ((open && this.#list.buttonOf(open)) || this.#newButton).focus();
  }

  #toggleContext(): void {
    this.#setContext(this.#appView.dataset['context'] !== 'open');
  }

  #setContext(open: boolean): void {
    this.#appView.dataset['context'] = open ? 'open' : 'closed';
    this.#contextToggle.setAttribute('aria-expanded', String(open));
    this.#contextToggle.textContent = open ? 'Hide context' : 'Context';
  }
}

function readSubject(): string {
  try {
    return sessionStorage.getItem(SUBJECT_KEY) ?? '';
  } catch {
    return ''; // storage disabled: nothing to prefill
  }
}

function writeSubject(subject: string): void {
  try {
    sessionStorage.setItem(SUBJECT_KEY, subject);
  } catch {
    // storage disabled: the form is simply not prefilled next time
  }
}

new ConsoleApp();
