/** `ArmListBySubscription`: GET `/subscriptions/{s}/providers/{ns}/{collection}` (top-level types). */
export interface ListBySubscriptionOperation {
  name: 'listBySubscription';
}
export const listBySubscription = (): ListBySubscriptionOperation => ({ name: 'listBySubscription' });
