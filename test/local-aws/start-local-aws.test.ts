/** startLocalAws: start-up errors that tell the user what to do, and stop() that leaves nothing running. */
import { createServer, type Server } from 'node:net';
import { LocalAwsError, startLocalAws } from '../../lambda/local-aws';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

describe('happy path', () => {
  it('starts on the requested port, answers there, and stops for good', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));

    const aws = await startLocalAws({ port, quiet: true });
    expect(aws.port).toBe(port);
    expect(aws.endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(await answers(aws.endpoint)).toBe(true);

    await aws.stop();
    await aws.stop(); // idempotent
    expect(await answers(aws.endpoint)).toBe(false);
  });
});

describe('errors', () => {
  it('fails with PORT_IN_USE, naming the port, when the port is taken', async () => {
    const blocker = createServer();
    const port = await listen(blocker);
    try {
      const started = startLocalAws({ port, quiet: true });
      await expect(started).rejects.toBeInstanceOf(LocalAwsError);
      await expect(started).rejects.toMatchObject({ code: 'PORT_IN_USE', message: expect.stringContaining(`Port ${port}`) });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('fails with PYTHON_NOT_FOUND and a way forward when the interpreter is missing', async () => {
    await expect(startLocalAws({ python: 'keyroll-no-such-python', quiet: true })).rejects.toMatchObject({
      code: 'PYTHON_NOT_FOUND',
      message: expect.stringContaining('import moto'),
    });
  });

  it('rejects a port outside 0–65535 before starting anything', async () => {
    await expect(startLocalAws({ port: 70_000 })).rejects.toBeInstanceOf(RangeError);
  });
});
