import { captureLogs } from '@argus/testkit';
import { status } from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { toServiceError } from '../src/query/service.js';

test('an internal failure answers its name only; the message, with its paths, goes to the log (finding 23)', () => {
  const logs = captureLogs({ level: 'info' });
  const failure = Object.assign(
    new Error(
      'Code: 60. DB::Exception: Table argus.cdevents does not exist. (/var/lib/argus/chdb/store/abc)',
    ),
    { code: '60', type: 'UNKNOWN_TABLE' },
  );
  const answer = toServiceError(failure, logs.logger);
  expect(answer.code).toBe(status.INTERNAL);
  expect(answer.details).toBe("query failed (UNKNOWN_TABLE); the hub's log has the details");
  expect(answer.details).not.toContain('/var/lib');
  expect(JSON.stringify(logs.lines())).toContain('/var/lib/argus/chdb/store/abc');
});
