/** The one-time sign-in link's URL, as `keyroll console` and `npm start` print it. */
export function signInLinkUrl(serviceUrl: string, token: string): string {
  return `${serviceUrl.replace(/\/+$/, '')}/console/sign-in/link?token=${token}`;
}
