// The conditions of a roleAssignments $filter as Graph's list endpoint takes it —
// `principalId eq '…'`, `roleDefinitionId eq '…'`, or both joined with `and` — parsed in the
// core, so the face hands the text over and never sees the storage filter tree it becomes.
import { InvalidInputError } from '../errors.js';
import type { RowFilter } from '../storage/row-filter.js';
import type { RoleAssignmentListOptions } from './directory-roles.js';
import { parseFilter, type FilterFields } from './odata-filter.js';

const ASSIGNMENT_FILTER_FIELDS: FilterFields = {
  principalId: { column: 'principalId', type: 'id' },
  roleDefinitionId: { column: 'roleDefinitionId', type: 'id' },
};

function unsupportedFilter(): InvalidInputError {
  return new InvalidInputError(
    'KH_GRAPH_QUERY_UNSUPPORTED',
    "Unsupported filter on roleAssignments: use principalId eq '{id}', roleDefinitionId eq '{id}', or both joined with 'and'.",
  );
}

/** The equality conditions of a roleAssignments $filter (the only form Graph supports there). */
export function assignmentFilter(text: string): Pick<RoleAssignmentListOptions, 'principalId' | 'roleDefinitionId'> {
  const out: Pick<RoleAssignmentListOptions, 'principalId' | 'roleDefinitionId'> = {};
  const visit = (node: RowFilter): void => {
    if (node.kind === 'and') return node.operands.forEach(visit);
    if (node.kind !== 'compare' || node.op !== 'eq' || typeof node.value !== 'string') throw unsupportedFilter();
    const column = node.column as 'principalId' | 'roleDefinitionId';
    if (out[column] !== undefined && out[column] !== node.value) throw unsupportedFilter();
    out[column] = node.value;
  };
  visit(parseFilter(text, ASSIGNMENT_FILTER_FIELDS));
  return out;
}

