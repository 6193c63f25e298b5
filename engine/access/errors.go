package access

import "errors"

// Sentinel errors of the package. Callers test them with errors.Is; the
// errors returned wrap them with the object, action, field or name
// concerned.
var (
	// ErrInvalidCredentials is returned by Login for an unknown user, a
	// wrong password or an inactive account (which one is not revealed).
	ErrInvalidCredentials = errors.New("access: invalid credentials")
	// ErrUnauthenticated is returned by Authenticate for a missing,
	// unknown, expired or revoked token, or a token of an inactive user.
	ErrUnauthenticated = errors.New("access: not authenticated")
	// ErrDenied is returned when a principal may not do what it asked.
	ErrDenied = errors.New("access: denied")
	// ErrUserNotFound is returned when no user has the id or username.
	ErrUserNotFound = errors.New("access: user not found")
	// ErrUserExists is returned when a username is already taken.
	ErrUserExists = errors.New("access: username already taken")
	// ErrUnknownRole is returned when a user or policy names a role that
	// no role definition declares.
	ErrUnknownRole = errors.New("access: unknown role")
	// ErrWeakPassword is returned for a password shorter than the minimum.
	ErrWeakPassword = errors.New("access: password too short")
	// ErrInvalid is returned for malformed input: a bad username, a
	// manager cycle, a policy naming an unknown object or field.
	ErrInvalid = errors.New("access: invalid input")
	// ErrTokenNotFound is returned when revoking a token that does not
	// exist.
	ErrTokenNotFound = errors.New("access: token not found")
	// ErrRoleInUse is returned when a metadata change would remove a role
	// a user still holds.
	ErrRoleInUse = errors.New("access: role in use")
	// ErrLastAdmin is returned when a change of roles or a deactivation
	// would leave no active user who may administer.
	ErrLastAdmin = errors.New("access: last administrator")
)
