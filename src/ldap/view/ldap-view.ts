// The directory as LDAP sees it: the LdapDirectory the protocol face (src/ldap/server/) calls.
//
// Construct once per server and share across connections:
//
//   import { LdapView } from './ldap/view/ldap-view.js';
//   import { ldapViewConfig } from './ldap/view/view-config.js';
//   const view = new LdapView({ directory, config: ldapViewConfig(config) });
//
// `directory` is the DirectoryService; `config` the resolved view settings (base DN, DN
// templates, anonymous search, visibility of others). The view holds no cache: every search
// reads the directory's current state, so memberOf and nested membership agree with it the
// moment a change commits (on every replica). It never touches storage itself.
import type { DirectoryService } from '../../directory/directory-service.js';
import {
  LDAP_RESULT, LdapResultError,
  type BindResult, type LdapDirectory, type LdapEntry, type LdapViewer, type SearchParams,
} from '../ldap-directory.js';
import { DitLayout } from './dit-layout.js';
import type { LdapViewConfig } from './view-config.js';

export interface LdapViewDeps {
  directory: DirectoryService;
  config: LdapViewConfig;
}

export class LdapView implements LdapDirectory {
  readonly layout: DitLayout;
  readonly #directory: DirectoryService;
  readonly #config: LdapViewConfig;

  constructor(deps: LdapViewDeps) {
    this.#directory = deps.directory;
    this.#config = deps.config;
    this.layout = new DitLayout(deps.config);
  }

  rootDse(): LdapEntry {
    return { dn: '', attributes: new Map() };
  }

  subschema(): LdapEntry {
    return { dn: 'cn=Subschema', attributes: new Map() };
  }

  async bind(_dn: string, _password: string, _source: string): Promise<BindResult> {
    void this.#directory;
    void this.#config;
    throw new LdapResultError(LDAP_RESULT.invalidCredentials, 'not yet');
  }

  async *search(_params: SearchParams, _viewer: LdapViewer): AsyncIterable<LdapEntry> {
    // Filled in by the next commits.
  }

  async compare(_dn: string, _attribute: string, _value: string, _viewer: LdapViewer): Promise<boolean> {
    throw new LdapResultError(LDAP_RESULT.noSuchObject, 'not yet');
  }

  async changePassword(): Promise<string | undefined> {
    throw new LdapResultError(LDAP_RESULT.unwillingToPerform, 'not yet');
  }
}
