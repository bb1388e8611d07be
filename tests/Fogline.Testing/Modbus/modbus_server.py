"""A Modbus TCP or RTU server for the SensorGateway tests (Debian's python3-pymodbus; run with /usr/bin/python3).

usage: modbus_server.py PORT                       Modbus TCP on 127.0.0.1:PORT
       modbus_server.py --rtu DEVICE BAUD          Modbus RTU (8N1, unit 1) on the serial DEVICE (a socat pty)
Holding registers from address 0: 235 (int16 23.5 at scale 0.1), 65531 (int16 -5), float32 12.5 as two words high
word first, uint32 100000 as two words low word first. Input register 10: 42. Prints "ready" once listening.
"""
import logging
import struct
import sys
import threading

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartSerialServer, StartTcpServer
from pymodbus.transaction import ModbusRtuFramer

logging.disable(logging.CRITICAL)
rtu = sys.argv[1] == "--rtu"
port = 0 if rtu else int(sys.argv[1])
f_hi, f_lo = struct.unpack(">HH", struct.pack(">f", 12.5))
u_hi, u_lo = struct.unpack(">HH", struct.pack(">I", 100000))
holding = ModbusSequentialDataBlock(0, [235, 65531, f_hi, f_lo, u_lo, u_hi])
inputs = ModbusSequentialDataBlock(0, [0] * 10 + [42])
store = ModbusSlaveContext(hr=holding, ir=inputs, zero_mode=True)
context = ModbusServerContext(slaves=store, single=True)


def announce():
    import socket
    import time
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print("ready", flush=True)


if rtu:
    print("ready", flush=True)
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=sys.argv[2], baudrate=int(sys.argv[3]),
                      bytesize=8, parity="N", stopbits=1, timeout=0.05)
else:
    threading.Thread(target=announce, daemon=True).start()
    StartTcpServer(context=context, address=("127.0.0.1", port))
