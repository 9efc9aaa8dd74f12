/** `ArmResourceCheckExistence`: HEAD on the item (204 | 404). */
export interface CheckExistenceOperation {
  name: 'checkExistence';
}
export const checkExistence = (): CheckExistenceOperation => ({ name: 'checkExistence' });
