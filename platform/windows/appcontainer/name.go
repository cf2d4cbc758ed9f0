package appcontainer

import "fmt"

// checkName refuses what CreateAppContainerProfile would: a name is 1 to 64 characters,
// letters, digits, '.', '-' and '_' (Microsoft suggests "Company.App"); a name
// from elsewhere never reaches the call unchecked.
func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("the AppContainer name %q is not 1 to 64 characters long", name)
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("the AppContainer name %q holds %q: use letters, digits, '.', '-' and '_'", name, r)
		}
	}
	return nil
}
