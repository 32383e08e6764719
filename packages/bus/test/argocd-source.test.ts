import { describe, expect, test } from 'vitest';
import { unescapeSourceSegment } from '../src/argocd-source.js';
import { argocdSourceCluster, escapeSourceSegment } from '../src/index.js';

describe('Argo CD source segments (escaped as the Notifications templates escape them: Go urlquery)', () => {
  test("escape as Go's url.QueryEscape: a space is +, a + is %2B, UTF-8 bytes are %XX", () => {
    expect(escapeSourceSegment('prod eu')).toBe('prod+eu');
    expect(escapeSourceSegment('a+b/c:d')).toBe('a%2Bb%2Fc%3Ad');
    expect(escapeSourceSegment('zürich-1.x_y~')).toBe('z%C3%BCrich-1.x_y~');
    expect(escapeSourceSegment("it's (v1)*!")).toBe('it%27s+%28v1%29%2A%21');
  });

  test('unescape reverses it for any name; the hub reads the cluster of a source back', () => {
    for (const name of [
      'prod eu',
      'a+b',
      'https://10.0.0.7:6443',
      'zürich',
      'arn:aws:eks:eu-west-1:1:cluster/x',
    ]) {
      expect(unescapeSourceSegment(escapeSourceSegment(name))).toBe(name);
      expect(argocdSourceCluster(`/argocd/${escapeSourceSegment(name)}/shop/cart`)).toBe(name);
    }
    expect(argocdSourceCluster('/ci/build')).toBeUndefined();
    expect(unescapeSourceSegment('%E0%A4%A')).toBeUndefined();
  });
});
