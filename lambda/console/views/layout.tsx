/** The page around every console view: header, the signed-in key, sign-out, and the assets. */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { ASSET_PATHS } from '../assets';

export interface SignedIn {
  readonly tenant: string;
  readonly keyName: string;
  readonly keyId: string;
  readonly csrfToken: string;
}

export interface LayoutProps {
  readonly title: string;
  readonly signedIn?: SignedIn;
  readonly children?: Child;
}

export function Layout(props: LayoutProps) {
  // Without the doctype a browser renders in quirks mode; JSX has no way to write one.
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · keyroll`}</title>
        <link rel="stylesheet" href={ASSET_PATHS.css} />
        <script src={ASSET_PATHS.js} defer />
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/console">
            keyroll
          </a>
          {props.signedIn ? (
            <div class="who">
              <span>
                Tenant <strong>{props.signedIn.tenant}</strong> · signed in as <strong>{props.signedIn.keyName}</strong>
              </span>
              <form method="post" action="/console/sign-out">
                <input type="hidden" name="_csrf" value={props.signedIn.csrfToken} />
                <button type="submit" class="button subtle">
                  Sign out
                </button>
              </form>
            </div>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
      </body>
      </html>
    </>
  );
}

/** An error the API answered with, as the console shows it: its code and its how-to-fix message. */
export function ErrorNotice(props: { readonly error?: { code?: string; message?: string } }) {
  if (!props.error) return null;
  return (
    <div class="notice error" role="alert">
      <strong>{props.error.code ?? 'Error'}</strong>: {props.error.message ?? 'Something went wrong.'}
    </div>
  );
}

export function Notice(props: { readonly text?: string }) {
  if (!props.text) return null;
  return (
    <div class="notice info" role="status">
      {props.text}
    </div>
  );
}
