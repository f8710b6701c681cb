// A flat TAP reporter for node:test that meson's TAP parser reads: one "ok"/"not ok" line per
// top-level test, failures explained in "#" comment lines.
export default async function* tapReporter(source) {
  yield 'TAP version 13\n';
  let count = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.nesting !== 0) continue;
    count += 1;
    const name = event.data.name.replace(/#/g, '');
    if (event.type === 'test:pass') {
      yield `ok ${count} - ${name}${event.data.skip ? ' # SKIP' : ''}\n`;
    } else {
      yield `not ok ${count} - ${name}\n`;
      const error = event.data.details?.error;
      const text = String(error?.cause?.stack ?? error?.cause ?? error ?? 'failed');
      for (const line of text.split('\n')) yield `# ${line}\n`;
    }
  }
  yield `1..${count}\n`;
}
