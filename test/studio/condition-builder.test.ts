import { describe, expect, it } from 'vitest';
import { evalCondition } from '@doorstep/schema';
import { fromCondition, toCondition, type TGroup } from '../../studio/src/lib/condition-builder.ts';

describe('condition builder', () => {
  it('should turn rules into a condition with typed values', () => {
    const group: TGroup = { kind: 'group', combinator: '$and', children: [
      { kind: 'rule', attribute: 'companySize', operator: '$gte', value: '200' },
      { kind: 'rule', attribute: 'country', operator: '$in', value: 'FR, DE' },
      { kind: 'rule', attribute: 'beta', operator: '$eq', value: 'true' },
    ] };
    expect(toCondition(group)).toEqual({ $and: [{ companySize: { $gte: 200 } }, { country: { $in: ['FR', 'DE'] } }, { beta: true }] });
  });

  it('should nest OR groups inside AND groups', () => {
    const group: TGroup = { kind: 'group', combinator: '$and', children: [
      { kind: 'rule', attribute: 'plan', operator: '$eq', value: 'trial' },
      { kind: 'group', combinator: '$or', children: [{ kind: 'rule', attribute: 'role', operator: '$eq', value: 'developer' }, { kind: 'rule', attribute: 'seats', operator: '$gt', value: '10' }] },
    ] };
    const condition = toCondition(group);
    expect(evalCondition({ plan: 'trial', seats: 20 }, condition)).toBe(true);
    expect(evalCondition({ plan: 'trial', seats: 2 }, condition)).toBe(false);
  });

  it('should read back what it wrote, and plain attribute maps', () => {
    const group: TGroup = { kind: 'group', combinator: '$or', children: [{ kind: 'rule', attribute: 'role', operator: '$ne', value: 'admin' }] };
    expect(fromCondition(toCondition(group))).toEqual(group);
    expect(fromCondition({ role: 'developer', companySize: { $gte: 200 } })).toEqual({ kind: 'group', combinator: '$and', children: [
      { kind: 'rule', attribute: 'role', operator: '$eq', value: 'developer' },
      { kind: 'rule', attribute: 'companySize', operator: '$gte', value: '200' },
    ] });
  });

  it('should decline conditions beyond the builder, leaving them to the JSON mode', () => {
    expect(fromCondition({ tags: { $elemMatch: { $eq: 'a' } } })).toBeNull();
    expect(fromCondition({ version: { $vgt: '1.0.0', $vlt: '2.0.0' } })).toBeNull();
  });
});
