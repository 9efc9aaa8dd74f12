/** `ArmResourceRead`: GET on the item (200 with the resource and its ETag). */
export interface ReadOperation {
  name: 'read';
}
export const read = (): ReadOperation => ({ name: 'read' });
