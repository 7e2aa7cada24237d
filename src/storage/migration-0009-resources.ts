// 0009_resources: the management plane shaped like Azure Resource Manager — subscriptions,
// the resource tree (resource groups and every provider's resources in one generic table, as
// ARM itself stores them: id, type, name, location, tags, properties, identity), and RBAC's
// custom role definitions and role assignments (built-in roles live in code: their ids and
// permissions are Azure's, not data). Ids are compared ignoring case, as ARM does, through
// the lower-cased `key` / `scope_key` columns; the spelling a client created is kept.
import type { Kysely, Migration } from 'kysely';

export const resourcesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('arm_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('arm_resources')
      // Lower-cased resource id: ARM ids are case-insensitive.
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'text', (c) => c.notNull())
      // Lower-cased resource group name ('' for nothing below a subscription but a group itself).
      .addColumn('resource_group', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('properties', 'text', (c) => c.notNull())
      .addColumn('identity', 'text')
      // sku, kind, managedBy, zones, plan: top-level ARM properties a provider may keep.
      .addColumn('extra', 'text', (c) => c.notNull())
      .addColumn('etag', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_by_type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('modified_by', 'text', (c) => c.notNull())
      .addColumn('modified_by_type', 'text', (c) => c.notNull())
      .addColumn('modified_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('arm_resources_group').on('arm_resources').columns(['subscription_id', 'resource_group', 'key']).execute();
    await db.schema.createIndex('arm_resources_sub_key').on('arm_resources').columns(['subscription_id', 'key']).execute();
    await db.schema
      .createTable('arm_role_definitions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('role_name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('assignable_scopes', 'text', (c) => c.notNull())
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('arm_role_assignments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('scope_key', 'text', (c) => c.notNull())
      .addColumn('role_definition_id', 'text', (c) => c.notNull())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('principal_type', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
    // ARM refuses a second assignment of one role to one principal at one scope (RoleAssignmentExists).
    await db.schema.createIndex('arm_role_assignments_unique').on('arm_role_assignments').columns(['scope_key', 'role_definition_id', 'principal_id']).unique().execute();
    await db.schema.createIndex('arm_role_assignments_principal').on('arm_role_assignments').column('principal_id').execute();
  },
};
