import { spawn, spawnSync } from 'node:child_process';
import { onCpus, parseCpuList, planPinning, runOnlyWhenIdle } from './cpu-pinning';

describe('parseCpuList', () => {
  it('reads single CPUs and ranges, sorted and without repeats', () => {
    expect(parseCpuList('0,1')).toEqual([0, 1]);
    expect(parseCpuList('8-9,0-2,1\n')).toEqual([0, 1, 2, 8, 9]);
  });

  it('refuses text that is not a CPU list', () => {
    expect(() => parseCpuList('0,a')).toThrow(/not a CPU list/);
  });
});

describe('planPinning', () => {
  it('gives the server the last allowed CPU and the load the others', () => {
    expect(planPinning([0, 1])).toEqual({ pinned: true, serverCpu: 1, loadCpus: [0] });
    expect(planPinning([2, 3, 5])).toEqual({ pinned: true, serverCpu: 5, loadCpus: [2, 3] });
  });

  it('runs unpinned on one CPU, and says why', () => {
    const plan = planPinning([0]);
    expect(plan.pinned).toBe(false);
    expect(plan.pinned === false && plan.reason).toMatch(/at least 2/);
  });
});

describe('onCpus', () => {
  it('runs the command through taskset -c when pinned, and as is when not', () => {
    expect(onCpus([0, 2], 'wrk', ['-t1'])).toEqual(['taskset', ['-c', '0,2', 'wrk', '-t1']]);
    expect(onCpus(undefined, 'wrk', ['-t1'])).toEqual(['wrk', ['-t1']]);
  });
});

describe('runOnlyWhenIdle', () => {
  it('moves a process to SCHED_IDLE, or says why it could not', () => {
    const child = spawn('sleep', ['30']);
    try {
      const why = runOnlyWhenIdle(child.pid!);
      const policy = spawnSync('chrt', ['-p', String(child.pid)], { encoding: 'utf8' });
      if (policy.error) expect(why).toMatch(/chrt is not installed/);
      else expect([why, policy.stdout]).toEqual([undefined, expect.stringMatching(/policy: SCHED_IDLE/)]);
    } finally {
      child.kill();
    }
  });
});
