/** The confirmation steps: revoke (naming the key), regenerate (a grace period first, or a rotation for a declared key). */
import type { KeyView } from './format';
import { ErrorNotice, Layout, type SignedIn } from './layout';

export function RevokePage(props: { readonly signedIn: SignedIn; readonly item: KeyView; readonly error?: { code?: string; message?: string } }) {
  const { item: key } = props;
  return (
    <Layout title={`Revoke ${key.name}`} signedIn={props.signedIn}>
      <section class="card narrow" aria-labelledby="revoke-title">
        <h1 id="revoke-title">Revoke “{key.name}”?</h1>
        <ErrorNotice error={props.error} />
        <p>
          Every request with <code>{key.start}…</code> ({key.name}, {key.environment}) will be refused from now on. Revoking is permanent: the key cannot be enabled again.
        </p>
        <div class="actions">
          <form method="post" action={`/console/keys/${key.id}/revoke`}>
            <input type="hidden" name="_csrf" value={props.signedIn.csrfToken} />
            <button type="submit" class="button danger" aria-label={`Revoke ${key.name}`}>
              Revoke
            </button>
          </form>
          <a class="button" href={`/console/keys/${key.id}`}>
            Cancel
          </a>
        </div>
      </section>
    </Layout>
  );
}

export const GRACE_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 0, label: 'None: the old key stops working now' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
];

export function RegeneratePage(props: { readonly signedIn: SignedIn; readonly item: KeyView; readonly error?: { code?: string; message?: string } }) {
  const { item: key } = props;
  return (
    <Layout title={`Regenerate ${key.name}`} signedIn={props.signedIn}>
      <section class="card narrow" aria-labelledby="regenerate-title">
        <h1 id="regenerate-title">Regenerate “{key.name}”</h1>
        <ErrorNotice error={props.error} />
        {key.declared ? (
          <>
            <p>
              This key is declared as code, so regenerating it starts a zero-downtime rotation: every consumer gets the new credential first, then the old one keeps working for
              the grace its <code>rotation.graceMinutes</code> in <code>stacks/keys.yaml</code> sets. No key is shown here.
            </p>
            <form method="post" action={`/console/keys/${key.id}/regenerate`}>
              <input type="hidden" name="_csrf" value={props.signedIn.csrfToken} />
              <button type="submit" class="button primary">
                Start rotation
              </button>
            </form>
          </>
        ) : (
          <form method="post" action={`/console/keys/${key.id}/regenerate`} data-reveal>
            <input type="hidden" name="_csrf" value={props.signedIn.csrfToken} />
            <div class="notice error error-box" data-error role="alert" tabindex={-1} hidden />
            <p>A new key replaces this one. Choose how long the current key keeps working, so the systems that use it can move to the new one.</p>
            <fieldset>
              <legend>Grace period for the current key</legend>
              {GRACE_CHOICES.map((choice) => (
                <label class="checks-line">
                  <input type="radio" name="graceSeconds" value={String(choice.seconds)} checked={choice.seconds === 3600} /> {choice.label}
                </label>
              ))}
            </fieldset>
            <button type="submit" class="button primary">
              Regenerate
            </button>
          </form>
        )}
        <p>
          <a href={`/console/keys/${key.id}`}>Cancel</a>
        </p>
      </section>
    </Layout>
  );
}

/** Without the client script: the reveal as a page of its own (no-store), once. */
export function RevealPage(props: { readonly signedIn: SignedIn; readonly secret: string; readonly next: string; readonly name: string }) {
  return (
    <Layout title="Your new API key" signedIn={props.signedIn}>
      <section class="card narrow" aria-labelledby="reveal-page-title">
        <h1 id="reveal-page-title">Your new API key: {props.name}</h1>
        <p class="warning">Copy this key now. It will not be shown again: keyroll keeps only a hash of it.</p>
        <code class="secret">{props.secret}</code>
        <a class="button" href={props.next}>
          Close
        </a>
      </section>
    </Layout>
  );
}

export function NotFoundPage(props: { readonly signedIn?: SignedIn; readonly error: { code?: string; message?: string } }) {
  return (
    <Layout title="Not available" signedIn={props.signedIn}>
      <section class="card narrow">
        <h1>This key is not available</h1>
        <ErrorNotice error={props.error} />
        <p>
          <a href="/console">← API keys</a>
        </p>
      </section>
    </Layout>
  );
}
