// Package access decides who may do what: users, passwords and tokens,
// roles compiled from metadata into Casbin policies (model.conf, stored in
// crm_casbin_rule through a small bun adapter), field levels, and
// record-level rules compiled into SQL predicates. It is the one place
// permission decisions are made; the engine and every feature that reads
// or writes records call it.
//
// The hot path is Service.Decide, once per request: it checks the policy
// version row (one cheap SELECT) and returns the immutable Decider for the
// current schema and policy version, rebuilt only when either changed, so
// a change made by any server sharing the database is seen on the next
// request. A Decider answers CanObject, FieldLevel (with FieldLevels,
// CheckWrite, CheckRead, Mask, ReadableFields), RecordFilter (the SQL
// predicate every list, count, report, export and lookup adds; single
// records use it with the id, see CanRecord), CanAdminister and Explain.
// Casbin's policies are indexed per role and Decider (with the roles each
// inherits), so a question is two map reads.
//
// The package must not know HTTP, must not decide anything by role name
// (the admin role is a role with full policies), and must not cache
// anything another server needs: users, shares and the manager hierarchy
// are read from the database on each request.
package access
