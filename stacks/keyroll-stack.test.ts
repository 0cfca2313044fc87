import { Testing } from 'cdktf';
import { TEST_TARGET, testApp } from './test-support';

describe('KeyrollStack state backend', () => {
  const terraformBlock = (stateBucket?: string) => {
    const { platform, keysStack } = testApp([], { ...TEST_TARGET, stateBucket });
    return [platform, keysStack].map((stack) => JSON.parse(Testing.synth(stack)).terraform);
  };

  it('locks S3 state with S3 itself, so two pipelines applying at once cannot overwrite each other', () => {
    for (const terraform of terraformBlock('acme-terraform-state')) {
      expect(terraform.backend).toEqual({
        s3: { bucket: 'acme-terraform-state', key: expect.stringMatching(/^keyroll\/keyroll-(platform|keys)\.tfstate$/), region: 'eu-west-1', encrypt: true, use_lockfile: true },
      });
      // use_lockfile is new in Terraform 1.10: an older one must refuse before it touches state.
      expect(terraform.required_version).toBe('>= 1.10');
    }
  });

  it('keeps local state, with no Terraform version requirement, when no bucket is set', () => {
    for (const terraform of terraformBlock(undefined)) {
      expect(terraform.backend).toEqual({ local: { path: expect.stringMatching(/^\/state\/keyroll-(platform|keys)\.tfstate$/) } });
      expect(terraform).not.toHaveProperty('required_version');
    }
  });
});
