/** The page around every console view: header, navigation, the signed-in key, sign-out, and the assets. */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { ASSET_PATHS } from '../assets';

export interface SignedIn {
  readonly tenant: string;
  readonly keyName: string;
  readonly keyId: string;
  readonly csrfToken: string;
  /** Alerts raised in the last 24 hours, for the navigation's badge; absent when not read. */
  readonly recentAlerts?: RecentAlerts;
}

/** A count of recent alerts; `more` when there are more than `count` (the count read stops there). */
export interface RecentAlerts {
  readonly count: number;
  readonly more: boolean;
}

export interface LayoutProps {
  readonly title: string;
  readonly signedIn?: SignedIn;
  /** Which navigation entry this page is, marked aria-current. */
  readonly current?: 'keys' | 'alerts';
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
          {props.signedIn ? <Navigation current={props.current} recentAlerts={props.signedIn.recentAlerts} /> : null}
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

function Navigation(props: { readonly current?: LayoutProps['current']; readonly recentAlerts?: RecentAlerts }) {
  const recent = props.recentAlerts;
  return (
    <nav class="nav" aria-label="Console">
      <a href="/console" {...(props.current === 'keys' ? { 'aria-current': 'page' } : {})}>
        API keys
      </a>
      <a href="/console/alerts" {...(props.current === 'alerts' ? { 'aria-current': 'page' } : {})}>
        Alerts
        {recent && recent.count > 0 ? (
          <span class="count">
            {`${recent.count}${recent.more ? '+' : ''}`}
            <span class="visually-hidden"> in the last 24 hours</span>
          </span>
        ) : null}
      </a>
    </nav>
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
