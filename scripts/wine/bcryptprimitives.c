/*
 * bcryptprimitives.dll for wine 8.0 (Debian 12), which has none: Go 1.24 and newer binaries
 * load it from system32 at start and call its ProcessPrng for every random byte (runtime
 * os_windows.go loadOptionalSyscalls; crypto/rand), and die with "bcryptprimitives.dll not
 * found" without it. This one exports only ProcessPrng, backed by advapi32's
 * SystemFunction036 (RtlGenRandom), which wine 8.0 has. scripts/wine-test.sh builds it with
 * mingw-w64 and puts it in a throw-away WINEPREFIX's system32; it is a test harness, never
 * shipped.
 *
 * ProcessPrng: BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData), documented to always
 * return TRUE; RtlGenRandom takes a ULONG length, so larger requests are taken in chunks.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x10000000 ? 0x10000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}

/* Entry point: built with -nostdlib, so no C runtime to start. */
BOOL WINAPI DllEntry(HINSTANCE dll, DWORD reason, LPVOID reserved)
{
	(void)dll; (void)reason; (void)reserved;
	return TRUE;
}
