/** Create and edit forms. A declared key's configuration is shown read-only: it lives in keys.yaml. */
import type { Environment } from '../../keys/environments';
import type { KeyView } from './format';
import { ErrorNotice, Layout, type SignedIn } from './layout';

export interface FormValues {
  readonly name?: string;
  readonly environment?: string;
  readonly permissions?: readonly string[];
  readonly limit?: string;
  readonly windowSeconds?: string;
  readonly expires?: string;
  readonly tags?: string;
}

interface FieldsProps {
  readonly values: FormValues;
  /** Permissions the caller may grant, from the tenant's known set. */
  readonly permissions: readonly string[];
}

function CommonFields(props: FieldsProps) {
  const { values } = props;
  const chosen = new Set(values.permissions ?? []);
  return (
    <>
      <div class="field">
        <label for="name">Name</label>
        <input id="name" name="name" type="text" required maxlength={128} value={values.name ?? ''} />
      </div>
      <fieldset>
        <legend>Permissions</legend>
        <p class="hint">Only permissions your key holds can be granted (the tenant's known ones; wildcards included).</p>
        <div class="checks">
          {props.permissions.map((permission) => (
            <label>
              <input type="checkbox" name="permissions" value={permission} checked={chosen.has(permission)} /> <code>{permission}</code>
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Rate limit</legend>
        <div class="row">
          <div class="field">
            <label for="limit">Requests</label>
            <input id="limit" name="limit" type="number" min={1} value={values.limit ?? '6000'} />
          </div>
          <div class="field">
            <label for="windowSeconds">Per (seconds)</label>
            <input id="windowSeconds" name="windowSeconds" type="number" min={1} max={86400} value={values.windowSeconds ?? '60'} />
          </div>
        </div>
      </fieldset>
      <div class="row">
        <div class="field">
          <label for="expires">
            Expires <span class="hint">(start of that day, UTC; empty: never)</span>
          </label>
          <input id="expires" name="expires" type="date" value={values.expires ?? ''} />
        </div>
        <div class="field">
          <label for="tags">
            Tags <span class="hint">(comma-separated, up to 10)</span>
          </label>
          <input id="tags" name="tags" type="text" value={values.tags ?? ''} />
        </div>
      </div>
    </>
  );
}

export interface CreateKeyProps extends FieldsProps {
  readonly signedIn: SignedIn;
  /** The environments the caller's management rules allow, highest first. */
  readonly environments: readonly Environment[];
  readonly error?: { code?: string; message?: string };
}

export function CreateKeyPage(props: CreateKeyProps) {
  const environment = props.values.environment ?? props.environments[0];
  return (
    <Layout title="Create API key" signedIn={props.signedIn}>
      <p>
        <a href="/console">← API keys</a>
      </p>
      <section class="card narrow" aria-labelledby="create-title">
        <h1 id="create-title">Create API key</h1>
        <ErrorNotice error={props.error} />
        <form method="post" action="/console/keys" data-reveal>
          <input type="hidden" name="_csrf" value={props.signedIn.csrfToken} />
          <div class="notice error error-box" data-error role="alert" tabindex={-1} hidden />
          <div class="field">
            <label for="environment">Environment</label>
            <span class="hint">Your key manages these environments (production › staging › development).</span>
            <select id="environment" name="environment">
              {props.environments.map((option) => (
                <option value={option} selected={option === environment}>
                  {option}
                </option>
              ))}
            </select>
          </div>
          <CommonFields values={props.values} permissions={props.permissions} />
          <button type="submit" class="button primary">
            Create API key
          </button>
        </form>
      </section>
    </Layout>
  );
}

export interface EditKeyProps extends FieldsProps {
  readonly signedIn: SignedIn;
  readonly item: KeyView;
  readonly error?: { code?: string; message?: string };
}

export function EditKeyPage(props: EditKeyProps) {
  const { item: key } = props;
  return (
    <Layout title={`Edit ${key.name}`} signedIn={props.signedIn}>
      <p>
        <a href={`/console/keys/${key.id}`}>← {key.name}</a>
      </p>
      <section class="card narrow" aria-labelledby="edit-title">
        <h1 id="edit-title">Edit {key.name}</h1>
        {key.declared ? (
          <DeclaredNote name={key.declared.name} />
        ) : (
          <>
            <ErrorNotice error={props.error} />
            <form method="post" action={`/console/keys/${key.id}/edit`}>
              <input type="hidden" name="_csrf" value={props.signedIn.csrfToken} />
              <CommonFields values={props.values} permissions={props.permissions} />
              <button type="submit" class="button primary">
                Save changes
              </button>
            </form>
          </>
        )}
      </section>
    </Layout>
  );
}

export function DeclaredNote(props: { readonly name: string }) {
  return (
    <p class="notice readonly">
      This key is declared as code (<code>{props.name}</code>): its configuration lives in <code>stacks/keys.yaml</code> and is read-only here. Edit it there and
      deploy; Regenerate starts a zero-downtime rotation.
    </p>
  );
}

/** A key's fields as the form shows them. */
export function formValuesOf(key: KeyView, permissions?: readonly string[]): FormValues {
  return {
    name: key.name,
    environment: key.environment,
    permissions: permissions ?? key.permissions,
    limit: String(key.rateLimit.limit),
    windowSeconds: String(key.rateLimit.windowSeconds),
    expires: key.expiresAt ? key.expiresAt.slice(0, 10) : '',
    tags: key.tags.join(', '),
  };
}
