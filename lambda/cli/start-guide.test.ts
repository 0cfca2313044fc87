import { startGuide, type StartGuideOptions } from './start-guide';

const options: StartGuideOptions = {
  url: 'http://127.0.0.1:8787',
  port: 8787,
  emulatorEndpoint: 'http://127.0.0.1:4566',
  environment: 'production',
  tenant: 'acme',
  deployed: true,
  otherPort: 8788,
  stateDir: '/tmp/state',
};

describe('startGuide', () => {
  it('offers a rotation of the deployed keys and its status, as commands that find this run themselves', () => {
    const lines = startGuide(options);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}npx keyroll rotate --tenant acme --all +# rotate its declared keys now/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}npx keyroll rotation status +# each key's phase/));
  });

  it('offers no rotation when nothing was deployed', () => {
    expect(startGuide({ ...options, deployed: false }).join('\n')).not.toContain('keyroll rotat');
  });
});
