package com.example.billing;

import jakarta.persistence.*;
import java.util.List;
import java.util.UUID;

@Entity
public class Customer {
    @Id
    @GeneratedValue
    private Long id;
    private UUID publicId;
    private String name;

    @OneToMany(mappedBy = "customer", cascade = CascadeType.PERSIST)
    private List<Invoice> invoices;

    @OneToMany(mappedBy = "customer", cascade = CascadeType.ALL, orphanRemoval = true)
    private List<Address> addressesOnFile;
}
