namespace Fogline.Testing.Modbus;

/// <summary>The Modbus server the tests and benches run: pymodbus (Debian's python3-pymodbus) under /usr/bin/python3.</summary>
public static class ModbusServer
{
    /// <summary>modbus_server.py: <c>PORT</c> for Modbus TCP on loopback, <c>--rtu DEVICE BAUD</c> for RTU on a serial line.</summary>
    public static string Script => Path.Combine(Repository.Root, "tests", "Fogline.Testing", "Modbus", "modbus_server.py");
}
