/**
 * A declared key's rotation status (phase, last rotated, next due, failure), from the rotation
 * Lambda. While a rotation is under way the section carries `data-poll`, and the client script
 * re-fetches it until it settles.
 */
import type { KeyRotationStatus } from '../../rotate/status-report';
import type { RotationStatusAnswer } from '../rotation-status';
import { timeText } from './format';

const PHASE_LABELS: Record<string, string> = { idle: 'Idle', rotating: 'Rotating', draining: 'Draining (old credential in grace)', failed: 'Failed' };
const UNDER_WAY = new Set(['rotating', 'draining']);

export function RotationSection(props: { readonly keyId: string; readonly answer: RotationStatusAnswer; readonly declaredName: string; readonly started?: boolean }) {
  const status: KeyRotationStatus | undefined = props.answer.available ? props.answer.statuses.find((entry) => entry.name === props.declaredName) : undefined;
  const polling = props.started || (status && UNDER_WAY.has(status.phase));
  return (
    <section class="card" aria-labelledby="rotation-title" aria-live="polite" {...(polling ? { 'data-poll': `/console/keys/${props.keyId}/rotation` } : {})}>
      <h2 id="rotation-title">Rotation</h2>
      {!props.answer.available ? (
        <p class="muted">Rotation status is unavailable: {props.answer.reason}. `npx keyroll rotation status` reads the same.</p>
      ) : !status ? (
        <p class="muted">No rotation status for {props.declaredName} yet.</p>
      ) : (
        <dl class="config">
          <dt>Phase</dt>
          <dd>
            <span class={`badge ${status.phase}`}>{PHASE_LABELS[status.phase] ?? status.phase}</span>
          </dd>
          <dt>Last rotated</dt>
          <dd>{timeText(status.lastRotatedAt)}</dd>
          <dt>Next due</dt>
          <dd>{status.rotationEnabled ? timeText(status.nextDueAt) : 'Not scheduled (rotation off)'}</dd>
          {status.oldCredential ? (
            <>
              <dt>Old credential</dt>
              <dd>
                <code>{status.oldCredential.start}…</code> works until {timeText(status.oldCredential.graceUntil)}; last used {timeText(status.oldCredential.lastUsedAt)}
              </dd>
            </>
          ) : null}
          {status.failure ? (
            <>
              <dt>Failure</dt>
              <dd class="notice error">{`${status.failure.code}: ${status.failure.message}${status.failure.fix ? ` ${status.failure.fix}` : ''}`}</dd>
            </>
          ) : null}
        </dl>
      )}
      {props.started && (!status || !UNDER_WAY.has(status.phase)) ? <p role="status">Rotation started; waiting for it to show …</p> : null}
    </section>
  );
}
