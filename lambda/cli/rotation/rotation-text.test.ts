import type { KeyRotationStatus } from '../../rotate/status-report';
import { emergencyWarning, rotationStartedByRegenerate, settledLine, statusText, sweepText, when } from './rotation-text';

const draining: KeyRotationStatus = {
  tenant: 'acme',
  name: 'telemetry-ingest',
  keyId: 'key_1',
  phase: 'draining',
  versionId: 'v2',
  lastRotatedAt: '2026-05-01T10:00:00.123Z',
  nextDueAt: '2026-05-31T10:00:00.000Z',
  rotationEnabled: true,
  oldCredential: { start: 'kr_live_Ab12', graceUntil: '2026-05-01T11:00:00.000Z', lastUsedAt: '2026-05-01T10:03:00.000Z' },
};

const failed: KeyRotationStatus = {
  tenant: 'acme',
  name: 'telemetry-legacy',
  phase: 'failed',
  versionId: 'v3',
  rotationEnabled: true,
  nextDueAt: '2026-05-31T10:00:00.000Z',
  failure: {
    code: 'CONSUMER_WRITE_FAILED',
    message: 'Could not write the new credential into consumer iot-rule-inline:acme_legacy: RULE_NOT_OWNED. Tag the rule keyroll:key=acme/telemetry-legacy.',
    step: 'setSecret',
    consumer: 'iot-rule-inline:acme_legacy',
    fix: 'Tag the rule keyroll:key=acme/telemetry-legacy.',
    at: '2026-05-01T10:00:05.000Z',
  },
};

const unrotated: KeyRotationStatus = { tenant: 'acme', name: 'staging-dashboard', phase: 'idle', rotationEnabled: false };

describe('statusText', () => {
  it('lines up a row per key, then the failure with its consumer and fix (said once), then the keys with no rotation', () => {
    expect(statusText([draining, failed, unrotated]).split('\n')).toEqual([
      'KEY                PHASE     LAST ROTATED          NEXT DUE              OLD CREDENTIAL  LAST USED             GRACE ENDS',
      'telemetry-ingest   draining  2026-05-01T10:00:00Z  2026-05-31T10:00:00Z  kr_live_Ab12…   2026-05-01T10:03:00Z  2026-05-01T11:00:00Z',
      'telemetry-legacy   failed    -                     2026-05-31T10:00:00Z  -               -                     -',
      'staging-dashboard  idle      -                     not configured        -               -                     -',
      '',
      'telemetry-legacy: failed (setSecret, 2026-05-01T10:00:05Z): CONSUMER_WRITE_FAILED: Could not write the new credential into consumer iot-rule-inline:acme_legacy: RULE_NOT_OWNED.',
      '  consumer: iot-rule-inline:acme_legacy',
      '  fix: Tag the rule keyroll:key=acme/telemetry-legacy.',
      'Not rotated (no rotation configured): staging-dashboard. To rotate one, declare `rotation: { everyDays, graceMinutes }` for it in keys.yaml and deploy.',
      '',
    ]);
  });

  it('says an old credential unused since the cutover, and names a straggler that was retired while in use', () => {
    const text = statusText([
      { ...draining, oldCredential: { start: 'kr_live_Ab12', graceUntil: '2026-05-01T11:00:00.000Z' } },
      { ...unrotated, name: 'fleet', rotationEnabled: true, lastRetirement: { start: 'kr_live_Zz99', at: '2026-05-01T11:00:00.000Z', reason: 'grace-ended', lastUsedAt: '2026-05-01T10:59:30.000Z' } },
    ]);
    expect(text).toMatch(/^telemetry-ingest +draining +\S+ +\S+ +kr_live_Ab12… +not since cutover +2026-05-01T11:00:00Z$/m);
    expect(text).toContain(
      'fleet: the old credential kr_live_Zz99… was retired at 2026-05-01T11:00:00Z (its grace ended) while still in use, last at 2026-05-01T10:59:30Z: something keyroll does not know of holds it.',
    );
  });

  it('keeps a failure without a fix actionable, and a name with a newline on one line', () => {
    const text = statusText([{ ...failed, name: 'x\ny', failure: { code: 'STUCK', message: 'No progress since 10:00.', at: '2026-05-01T10:30:00.000Z' } }]);
    expect(text).toContain('x?y: failed (2026-05-01T10:30:00Z): STUCK: No progress since 10:00.\n  fix: fix the cause named above, then start a new rotation with `keyroll rotate`');
    expect(text.split('\n')[1]).toMatch(/^x\?y +failed/);
  });
});

describe('sweepText', () => {
  it('prints each outcome lined up, with what was retired and why, then counts in a fixed order', () => {
    expect(
      sweepText({
        checked: 3,
        outcomes: [
          { tenant: 'acme', name: 'telemetry-ingest', action: 'retired', retired: { start: 'kr_live_Ab12', reason: 'drained', stillInUse: false } },
          { tenant: 'acme', name: 'legacy', action: 'retired', retired: { start: 'kr_live_Cd34', reason: 'grace-ended', stillInUse: true, lastUsedAt: '2026-05-01T10:59:00.000Z' } },
          { tenant: 'acme', name: 'fleet', action: 'waiting', detail: 'the old credential is still draining' },
        ],
      }),
    ).toEqual([
      'acme/telemetry-ingest  retired   the old credential kr_live_Ab12… (drained: unused for the cache horizon)',
      'acme/legacy            retired   the old credential kr_live_Cd34… (its grace ended); it was still in use, last at 2026-05-01T10:59:00Z: something keyroll does not know of holds it',
      'acme/fleet             waiting   the old credential is still draining',
      'Swept 3 keys: 2 retired, 1 waiting.',
    ]);
  });

  it('says when nothing needed the sweep', () => {
    expect(sweepText({ checked: 0, outcomes: [] })).toEqual(['No rotation needs the sweep: no declared key is rotating, draining or failed.']);
  });
});

describe('settledLine', () => {
  it('says what comes next for each way a rotation ends', () => {
    expect(settledLine(draining)).toBe(
      'acme/telemetry-ingest: draining: version v2 is current; the old credential kr_live_Ab12… keeps working until nothing has used it for the cache horizon (at the latest until 2026-05-01T11:00:00Z), then the sweep retires it.',
    );
    expect(settledLine({ ...unrotated, versionId: 'v9', lastRetirement: { start: 'kr_live_Ab12', at: '2026-05-01T10:00:00.000Z', reason: 'emergency' } })).toBe(
      'acme/staging-dashboard: done: version v9 is current; the old credential kr_live_Ab12… was retired (emergency rotation).',
    );
    expect(settledLine(failed)).toBe(
      'acme/telemetry-legacy: failed: CONSUMER_WRITE_FAILED: Could not write the new credential into consumer iot-rule-inline:acme_legacy: RULE_NOT_OWNED. Fix: Tag the rule keyroll:key=acme/telemetry-legacy.',
    );
  });
});

describe('the rest', () => {
  it('when: to the second, a dash for nothing', () => {
    expect(when('2026-05-01T10:00:00.123Z')).toBe('2026-05-01T10:00:00Z');
    expect(when(undefined)).toBe('-');
  });

  it('the emergency warning names the horizon and its setting', () => {
    expect(emergencyWarning(900)).toMatch(/no drain\. Reference consumers .* for up to the cache horizon: 900 s \(KEYROLL_IOT_SECRET_CACHE_SECONDS in this shell/);
  });

  it("a declared key's regenerate names the rotation, where the credential goes, and how to watch", () => {
    expect(rotationStartedByRegenerate({ keyId: 'key_1', name: 'telemetry-ingest', secretArn: 'arn:x', versionId: 'v2', state: 'rotating' }, 'acme')).toBe(
      'Key key_1 is declared (acme/telemetry-ingest in keys.yaml), so regenerating it started a rotation instead (Secrets Manager version v2): ' +
        "every consumer moves to the new credential before the old one stops, within the key's `rotation.graceMinutes`. " +
        'No key is printed: the new one goes into its secret keyroll/acme/telemetry-ingest. Watch it with `keyroll rotation status --tenant acme`.',
    );
  });
});
