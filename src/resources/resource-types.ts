// The resource types the management plane serves, registered by the parts that own them
// (src/resources/providers/*, later the vault, storage, workspace and registry parts). The
// resource manager itself knows no type: it stores, lists, authorizes and deletes any resource
// generically and asks the type's provider for what only the provider knows — which
// api-versions it has, what its properties may hold, what else must go when a resource goes.
import { InvalidInputError } from '../errors.js';
import type { Tx } from '../storage/storage.js';
import { printable } from './resource-id.js';

/** A resource as stored: ARM's common envelope. */
export interface StoredResource {
  id: string;
  name: string;
  type: string;
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  identity?: Record<string, unknown> | undefined;
  /** sku, kind, zones, managedBy … as the provider keeps them. */
  extra: Record<string, unknown>;
  etag: string;
  systemData: SystemData;
}

/** ARM's systemData (createdByType: User, Application, ManagedIdentity, Key). */
export interface SystemData {
  createdBy: string;
  createdByType: string;
  createdAt: string;
  lastModifiedBy: string;
  lastModifiedByType: string;
  lastModifiedAt: string;
}

/** What a PUT asks for, after the core's own checks (location, tags, id/type/name in the body). */
export interface ResourceRequest {
  id: string;
  name: string;
  location: string;
  properties: Record<string, unknown>;
  /** The body's identity block, untouched: only a provider that supports identities may accept one. */
  identity: unknown;
  /** The rest of the body's top-level fields (sku, kind, zones …). */
  body: Record<string, unknown>;
}

/** A permission the write needs beyond `{type}/write` on the resource (e.g. assign/action on an identity it attaches). */
export interface LinkedPermission {
  operation: string;
  scope: string;
}

export interface PreparedResource {
  properties: Record<string, unknown>;
  identity?: Record<string, unknown> | undefined;
  extra?: Record<string, unknown>;
}

export interface ResourceTypeProvider {
  /** `Namespace/type[/childType]`, e.g. Microsoft.Compute/virtualMachines. */
  type: string;
  apiVersions: readonly string[];
  /**
   * Checks and normalizes a PUT (a full replacement), inside the write transaction (so it may
   * look up what the resource refers to, such as the identities it attaches); throws
   * InvalidInputError for bad content, and nothing is written.
   */
  prepare(request: ResourceRequest, existing: StoredResource | undefined, tx: Tx): PreparedResource | Promise<PreparedResource>;
  /** Further permissions this write needs (checked by the face before anything is written). */
  linkedPermissions?(request: ResourceRequest): LinkedPermission[];
  /** Inside the write transaction, after the row is stored (create the identity's service principal …). */
  afterWrite?(tx: Tx, resource: StoredResource, previous: StoredResource | undefined): Promise<void>;
  /** Inside the delete transaction, before the row goes (delete a system-assigned identity …). */
  beforeDelete?(tx: Tx, resource: StoredResource): Promise<void>;
}

export class ResourceTypes {
  readonly #types = new Map<string, ResourceTypeProvider>();
  readonly #namespaces = new Set<string>();

  register(provider: ResourceTypeProvider): void {
    const key = provider.type.toLowerCase();
    if (this.#types.has(key)) throw new Error(`resource type ${provider.type} registered twice`);
    this.#types.set(key, provider);
    this.#namespaces.add(provider.type.split('/')[0]!.toLowerCase());
  }

  get(type: string): ResourceTypeProvider | undefined {
    return this.#types.get(type.toLowerCase());
  }

  /** The provider of a type, or ARM's refusal for an unknown namespace or type. */
  require(type: string): ResourceTypeProvider {
    const provider = this.get(type);
    if (provider) return provider;
    const namespace = type.split('/')[0]!;
    if (!this.#namespaces.has(namespace.toLowerCase())) {
      throw new InvalidInputError('KH_ARM_INVALID_NAMESPACE', `The resource namespace '${printable(namespace)}' is invalid.`);
    }
    throw new InvalidInputError('KH_ARM_INVALID_RESOURCE_TYPE', `The resource type '${printable(type.split('/').slice(1).join('/'))}' could not be found in the namespace '${printable(namespace)}'.`);
  }

  all(): ResourceTypeProvider[] {
    return [...this.#types.values()];
  }
}
