// Package access decides who may do what: users, roles, the Casbin model
// and its bun adapter, field masks and record-level rules compiled into SQL
// predicates. It is the one place permission decisions are made; the
// engine and every feature that reads or writes records call it.
package access
