/** Sign-in: a pasted keys:manage key, or a one-time link's confirmation (a GET never signs in). */
import { ErrorNotice, Layout, Notice } from './layout';

export function SignInPage(props: { readonly error?: { code?: string; message?: string }; readonly notice?: string }) {
  return (
    <Layout title="Sign in">
      <section class="card narrow" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to the API keys console</h1>
        <Notice text={props.notice} />
        <ErrorNotice error={props.error} />
        <form method="post" action="/console/sign-in">
          <div class="field">
            <label for="key">Management key</label>
            <span class="hint" id="key-hint">
              A key with <code>keys:manage</code>. It is checked once and never stored in the browser: the session remembers only which key it is. Or run{' '}
              <code>npx keyroll console --tenant &lt;tenant&gt;</code> for a one-time sign-in link.
            </span>
            <input id="key" name="key" type="password" autocomplete="off" spellcheck={false} required aria-describedby="key-hint" />
          </div>
          <button type="submit" class="button primary">
            Sign in
          </button>
        </form>
      </section>
    </Layout>
  );
}

export function SignInLinkPage(props: { readonly token: string }) {
  return (
    <Layout title="Sign in">
      <section class="card narrow" aria-labelledby="link-title">
        <h1 id="link-title">Sign in with this link</h1>
        <p>This link signs you in once and works for 10 minutes from when it was made.</p>
        <form method="post" action="/console/sign-in/link">
          <input type="hidden" name="token" value={props.token} />
          <button type="submit" class="button primary">
            Sign in
          </button>
        </form>
      </section>
    </Layout>
  );
}
