package appcontrol

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The documented schemas as test-only types, apart from the generator's, each with catch-alls
// for what the documentation does not name: encoding/xml ignores unknown elements and
// attributes, so strictDecode fails when a catch-all caught any.
type (
	unknownAttrs []xml.Attr
	unknownElems []struct {
		XMLName xml.Name
	}
)

type xAppLocker struct {
	XMLName     xml.Name `xml:"AppLockerPolicy"`
	Version     string   `xml:"Version,attr"`
	Collections []struct {
		Type            string `xml:"Type,attr"`
		EnforcementMode string `xml:"EnforcementMode,attr"`
		Rules           []struct {
			ID             string `xml:"Id,attr"`
			Name           string `xml:"Name,attr"`
			Description    string `xml:"Description,attr"`
			UserOrGroupSid string `xml:"UserOrGroupSid,attr"`
			Action         string `xml:"Action,attr"`
			Conditions     struct {
				Path struct {
					Path    string       `xml:"Path,attr"`
					Unknown unknownAttrs `xml:",any,attr"`
					Extra   unknownElems `xml:",any"`
				} `xml:"FilePathCondition"`
				Unknown unknownAttrs `xml:",any,attr"`
				Extra   unknownElems `xml:",any"`
			} `xml:"Conditions"`
			Unknown unknownAttrs `xml:",any,attr"`
			Extra   unknownElems `xml:",any"`
		} `xml:"FilePathRule"`
		Unknown unknownAttrs `xml:",any,attr"`
		Extra   unknownElems `xml:",any"`
	} `xml:"RuleCollection"`
	Unknown unknownAttrs `xml:",any,attr"`
	Extra   unknownElems `xml:",any"`
}

type xEmpty struct {
	Unknown unknownAttrs `xml:",any,attr"`
	Extra   unknownElems `xml:",any"`
}

type xSiPolicy struct {
	XMLName      xml.Name `xml:"urn:schemas-microsoft-com:sipolicy SiPolicy"`
	PolicyType   string   `xml:"PolicyType,attr"`
	VersionEx    string   `xml:"VersionEx"`
	PolicyID     string   `xml:"PolicyID"`
	BasePolicyID string   `xml:"BasePolicyID"`
	PlatformID   string   `xml:"PlatformID"`
	Rules        struct {
		Rule []struct {
			Option string       `xml:"Option"`
			Extra  unknownElems `xml:",any"`
		} `xml:"Rule"`
		Extra unknownElems `xml:",any"`
	} `xml:"Rules"`
	EKUs      xEmpty `xml:"EKUs"`
	FileRules struct {
		Allow []struct {
			ID           string       `xml:"ID,attr"`
			FriendlyName string       `xml:"FriendlyName,attr"`
			FileName     string       `xml:"FileName,attr"`
			FilePath     string       `xml:"FilePath,attr"`
			Unknown      unknownAttrs `xml:",any,attr"`
			Extra        unknownElems `xml:",any"`
		} `xml:"Allow"`
		Extra unknownElems `xml:",any"`
	} `xml:"FileRules"`
	Signers          xEmpty `xml:"Signers"`
	SigningScenarios struct {
		Scenario []struct {
			Value          int    `xml:"Value,attr"`
			ID             string `xml:"ID,attr"`
			FriendlyName   string `xml:"FriendlyName,attr"`
			ProductSigners struct {
				FileRulesRef struct {
					Ref []struct {
						RuleID  string       `xml:"RuleID,attr"`
						Unknown unknownAttrs `xml:",any,attr"`
					} `xml:"FileRuleRef"`
					Extra unknownElems `xml:",any"`
				} `xml:"FileRulesRef"`
				Extra unknownElems `xml:",any"`
			} `xml:"ProductSigners"`
			Unknown unknownAttrs `xml:",any,attr"`
			Extra   unknownElems `xml:",any"`
		} `xml:"SigningScenario"`
		Extra unknownElems `xml:",any"`
	} `xml:"SigningScenarios"`
	UpdatePolicySigners xEmpty `xml:"UpdatePolicySigners"`
	CiSigners           xEmpty `xml:"CiSigners"`
	HvciOptions         int    `xml:"HvciOptions"`
	Settings            struct {
		Setting []struct {
			Provider  string `xml:"Provider,attr"`
			Key       string `xml:"Key,attr"`
			ValueName string `xml:"ValueName,attr"`
			Value     struct {
				String string       `xml:"String"`
				Extra  unknownElems `xml:",any"`
			} `xml:"Value"`
			Unknown unknownAttrs `xml:",any,attr"`
			Extra   unknownElems `xml:",any"`
		} `xml:"Setting"`
		Extra unknownElems `xml:",any"`
	} `xml:"Settings"`
	Unknown unknownAttrs `xml:",any,attr"`
	Extra   unknownElems `xml:",any"`
}

// strictDecode decodes data into v (a pointer to one of the x types) and returns every
// element or attribute the documented schema does not name, by its path.
func strictDecode(data []byte, v any) ([]string, error) {
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return nil, err
	}
	var bad []string
	var walk func(at string, rv reflect.Value)
	walk = func(at string, rv reflect.Value) {
		switch rv.Kind() {
		case reflect.Pointer:
			walk(at, rv.Elem())
		case reflect.Slice:
			switch s := rv.Interface().(type) {
			case unknownAttrs:
				for _, a := range s {
					if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
						continue
					}
					bad = append(bad, at+"@"+a.Name.Local)
				}
				return
			case unknownElems:
				for _, e := range s {
					bad = append(bad, at+"/"+e.XMLName.Local)
				}
				return
			}
			for i := 0; i < rv.Len(); i++ {
				walk(fmt.Sprintf("%s[%d]", at, i), rv.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < rv.NumField(); i++ {
				walk(at+"/"+rv.Type().Field(i).Name, rv.Field(i))
			}
		}
	}
	walk("", reflect.ValueOf(v))
	return bad, nil
}

func TestStrictDecodeFindsUnknowns(t *testing.T) {
	doc := `<AppLockerPolicy Version="1" Extra="x"><RuleCollection Type="Exe" EnforcementMode="AuditOnly">
<FilePathRule Id="a" Name="n" Description="d" UserOrGroupSid="S-1-1-0" Action="Allow"><Conditions>
<FilePathCondition Path="%WINDIR%\*" Bogus="1"/><FileHashCondition/></Conditions></FilePathRule></RuleCollection></AppLockerPolicy>`
	bad, err := strictDecode([]byte(doc), &xAppLocker{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(bad, " ")
	for _, want := range []string{"@Extra", "@Bogus", "/FileHashCondition"} {
		if !strings.Contains(got, want) {
			t.Errorf("unknowns = %q, want %s among them", got, want)
		}
	}
}

var (
	appLockerGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	wdacGUID      = regexp.MustCompile(`^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$`)
)
